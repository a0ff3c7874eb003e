"""axe-core in Chromium: run the vendored axe.min.js on a page and return its violations."""

from __future__ import annotations

from pathlib import Path

# axe-core 4.14.1 from the npm registry (`npm pack axe-core@4.14.1`), vendored with its
# licence (MPL-2.0) so the suite needs no network: tests/browser/vendor/.
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def axe_context(browser, width: int = 1280, height: int = 800):
    """Return a context for axe runs only: the CSP (script-src 'self') would block the script."""
    return browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; return every violation, whatever its impact."""
    page.add_script_tag(path=str(AXE_JS))
    # resultTypes: only violations are needed; every rule runs (no impact filter).
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )


def describe(violations: list[dict]) -> str:
    """Return a readable list of violations for an assertion message."""
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(
            f"{violation['impact']} {violation['id']}: {violation['help']} → {'; '.join(targets)}"
        )
    return "\n".join(lines)
