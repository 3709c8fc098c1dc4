"""The report end to end, through the sandbox, in Chinese: a request served (dispatched, accepted,
done), then the coordinator taps More → 📈 报表, this month, the whole district, and gets the
report's text, the two charts as photos (the rates month by month, the teams side by side, drawn
with the packaged Chinese font: a missing glyph would be a warning, which fails the send) and its
XLSX document (all made by the outbox as the messages go out); the workbook's figures equal what
``volunteer-loop report --format json`` gives for the same month."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from sandbox import SandboxClient, SandboxServer
from tests.e2e.harness import (
    accepted_order,
    centre_running,
    download,
    latest_document,
    latest_photo,
    tr,
    wait_text,
)
from tests.support.cli import config, run_cli


@pytest.mark.parametrize("language", ["zh"])
async def test_the_coordinator_taps_report_and_gets_text_and_workbook(
        server: SandboxServer, sandbox: SandboxClient, database_url: str, language: str, tmp_path: Path) -> None:
    _ = tr(language)
    async with centre_running(server, sandbox, database_url, language) as (cast, application):
        number, vera, details = await accepted_order(cast, language)
        application.bot_data.deps.clock.advance(20 * 60)
        await vera.tap(_("✔️ Done"), message_id=details.message_id)
        await wait_text(vera, _("Thank you! How many hours did request #{number} take? Tap or type a number.",
                                number=number))

        await cast.coordinator.skip_to_now()
        await cast.coordinator.press(_("⋯ More"))
        more = await cast.coordinator.next_message()
        await cast.coordinator.tap(_("📈 Reports"), message_id=more.message_id)
        periods = await wait_text(cast.coordinator, _("📈 A report of which period?"))
        await cast.coordinator.tap(_("This month"), message_id=periods.message_id)
        places = await wait_text(cast.coordinator, _("📈 A report of which place?"))
        await cast.coordinator.tap(_("the whole district"), message_id=places.message_id)
        text = await wait_text(cast.coordinator, "📈 报表：全区")
        assert "响应率（按时接单 / 求助数）：1 / 1 (100.0%)" in (text.text or "").splitlines()
        await latest_photo(cast.coordinator, at_least=2, timeout=20)
        photos = [m for m in (await cast.coordinator.chat()).bot_messages if m.kind == "photo"]
        assert [p.text for p in photos] == [_("📈 The rates month by month."), _("📊 The teams side by side.")]
        for photo in photos:
            with Image.open(io.BytesIO(await download(server, photo))) as image:
                low, high = image.convert("L").getextrema()
                assert image.format == "PNG" and image.width >= 800 and high - low > 100  # drawn, not blank
        document = await latest_document(cast.coordinator)
        book = load_workbook(io.BytesIO(await download(server, document, "document")), read_only=True)
        summary = list(book["总览"].iter_rows(values_only=True))[1]
        orders = list(book["订单"].iter_rows(values_only=True))
        book.close()
        assert [row[0] for row in orders[1:]] == [number]

        now = application.bot_data.deps.clock().astimezone(application.bot_data.deps.config.timezone)
    month = f"{now.year:04d}-{now.month:02d}"
    settings = config(tmp_path, f'[database]\nurl = "{database_url}"\n')
    done = run_cli("--config", str(settings), "report", "--month", month, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    measures = json.loads(done.stdout)["measures"]
    names = [name for name, value in measures.items() if isinstance(value, dict)]
    assert {n: (summary[1 + 3 * i], summary[2 + 3 * i]) for i, n in enumerate(names)} == {
        n: (measures[n]["numerator"], measures[n]["denominator"]) for n in names}
    assert measures["response"] == {"numerator": 1, "denominator": 1, "value": 1.0}
