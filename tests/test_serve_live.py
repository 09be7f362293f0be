"""The real live builder: a page for a branch subset built by the report code in a worker process, cached by
parameters, one build shared by sessions asking at once, and failures not cached."""
import asyncio
from concurrent.futures.process import BrokenProcessPool

import pytest

from sqc.report.dashboard import unpack_page
from sqc.serve.live import LiveBuilder

pytestmark = pytest.mark.slow


def test_live_page_for_a_branch_subset(tmp_path, demo_dir):
    async def main():
        live = LiveBuilder(demo_dir, tmp_path / "cache", areas=("scorecard",))
        try:
            periods, branches = await live.catalogue()
            assert "2026-10" in periods and "B01" in branches
            first, second = await asyncio.gather(live.page("2026-10", ("B01", "B07"), "en"),
                                                 live.page("2026-10", ("B01", "B07"), "en"))
            assert first == second, "sessions asking at once share one build"
            page = unpack_page(first.read_text(encoding="utf-8"))
            assert "B01, B07" in page and "Oct 2026" in page
            zh = await live.page("2026-10", ("B01", "B07"), "zh")
            assert zh != first and "<title>服务质量月度报告 2026-10</title>" in zh.read_text(encoding="utf-8")
            assert await live.page("2026-10", ("B01", "B07"), "en") == first, "cached"
            assert len(list((tmp_path / "cache").iterdir())) == 2
            with pytest.raises(Exception, match="unknown branch"):
                await live.page("2026-10", ("B99",), "en")
            assert not any(p.name.endswith(".building") for p in (tmp_path / "cache").iterdir())
        finally:
            live.close()

    asyncio.run(main())


def test_a_dead_worker_is_replaced(tmp_path, demo_dir):
    async def main():
        live = LiveBuilder(demo_dir, tmp_path / "cache", areas=("scorecard",))
        try:
            await live.catalogue()
            for proc in list(live._pool._processes.values()):
                proc.kill()  # as the kernel's out-of-memory killer would
            page = None
            for _ in range(2):  # the build in flight when the worker died fails; the next one gets a new worker
                try:
                    page = await live.page("2026-10", ("B01",), "en")
                    break
                except BrokenProcessPool:
                    continue
            assert page is not None and page.exists()
        finally:
            live.close()

    asyncio.run(main())


def test_worker_computes_once_per_data_and_period_and_sees_new_data(tmp_path, demo_dir, monkeypatch):
    """In a worker, the second language of a live page only renders (its statistics are kept per data
    fingerprint, period and branches); after an ingest changes the store, the data are loaded and computed
    again."""
    import shutil

    from sqc.report.sections import complaints
    from sqc.serve import live
    from sqc.store import ingest

    data_dir = tmp_path / "data"
    shutil.copytree(demo_dir, data_dir, ignore=shutil.ignore_patterns(".sqc"))
    computes = []

    def counting_compute(ctx, _compute=complaints.compute):
        computes.append(ctx.data)
        return _compute(ctx)

    monkeypatch.setattr(complaints, "compute", counting_compute)
    monkeypatch.setattr(live, "_DATA", None)
    monkeypatch.setattr(live, "_COMPUTED", live.OrderedDict())
    live._init_worker(str(data_dir))
    build = lambda lang, name, branches=("B01", "B02"): live._worker_build(  # noqa: E731
        "2026-10", branches, lang, str(tmp_path / "cache" / name), ("complaints",))
    build("en", "a")
    build("zh", "b")
    assert len(computes) == 1, "the zh page reused the en page's statistics"
    build("en", "c", branches=("B03",))
    assert len(computes) == 2, "another branch subset is computed"
    first = computes[0]

    targets = data_dir / "targets.csv"
    targets.write_text(targets.read_text(encoding="utf-8").replace("service_level,0.8,", "service_level,0.85,"),
                       encoding="utf-8")
    ingest(data_dir, store=live._DATA.store.path)  # the worker holds no connection between builds: no wait
    build("en", "d")
    assert len(computes) == 3 and computes[-1] is not first, "new data: loaded again and computed afresh"
    assert live._DATA.targets.set_index("kpi").loc["service_level", "target"] == 0.85
    build("zh", "e")
    assert len(computes) == 3
    assert all((tmp_path / "cache" / n).is_dir() for n in "abcde")


def test_cached_live_pages_follow_new_data(tmp_path, demo_dir):
    """A cached page is served while the data folder is unchanged; after an export changes (the monthly drop),
    the next request builds the page from the new data and the earlier page is removed."""
    import shutil

    data_dir = tmp_path / "data"
    shutil.copytree(demo_dir, data_dir, ignore=shutil.ignore_patterns(".sqc"))

    async def main():
        live = LiveBuilder(data_dir, tmp_path / "cache", areas=("scorecard",))
        try:
            first = await live.page("2026-10", ("B01",), "en")
            assert await live.page("2026-10", ("B01",), "en") == first, "unchanged data: the cached page"
            assert "80.0%" in unpack_page(first.read_text(encoding="utf-8"))  # the service-level target
            targets = data_dir / "targets.csv"
            targets.write_text(targets.read_text(encoding="utf-8").replace("service_level,0.8,",
                                                                           "service_level,0.85,"), encoding="utf-8")
            second = await live.page("2026-10", ("B01",), "en")
            assert second != first and not first.exists(), "the page built from the earlier data is gone"
            assert "85.0%" in unpack_page(second.read_text(encoding="utf-8"))
            assert await live.page("2026-10", ("B01",), "en") == second
        finally:
            live.close()

    asyncio.run(main())
