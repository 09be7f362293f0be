"""House of Quality figure and the other issue-6 plots are drawn from result objects without recomputation."""
import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from sqc.qfd import house_of_quality  # noqa: E402


def test_house_figure_draws_roof_and_importance():
    import matplotlib.pyplot as plt

    from sqc.plotting.qfd import house_of_quality_figure, technical_importance_bars

    imp = pd.Series([5, 4, 3, 2], index=["quick", "competent", "informed", "polite"])
    rel = pd.DataFrame([[9, 1, 3], [0, 9, 9], [1, 9, 0], [0, 3, 3]], index=imp.index,
                       columns=["staffing", "training", "knowledge base"])
    roof = pd.DataFrame("", index=rel.columns, columns=rel.columns)
    roof.loc["staffing", "training"] = "-"
    h = house_of_quality(imp, rel, roof=roof)
    fig = house_of_quality_figure(h)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"●", "○", "△"} <= texts and "−" in texts          # relationship symbols and the roof
    assert "41.3%" in texts and "1" in texts                    # RTI of training (golden .4134) and its rank
    plt.close(fig)
    fig = technical_importance_bars(h)
    assert len(fig.axes[0].patches) == 3
    plt.close(fig)
