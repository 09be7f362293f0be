"""The real live builder: a page for a branch subset built by the report code in a worker process, cached by
parameters, one build shared by sessions asking at once, and failures not cached."""
import asyncio
from concurrent.futures.process import BrokenProcessPool

import pytest

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
            page = first.read_text(encoding="utf-8")
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
