"""The front-end's ES modules: imports resolve, pages load them as modules, files stay small."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

STATIC = Path(__file__).resolve().parents[2] / "static"
# The pages' own code; widget/loader.js is a classic script on other sites' pages, not a module.
MODULE_DIRS = ("common", "chat", "console", "widget")
CLASSIC = {STATIC / "widget" / "loader.js"}
MAX_LINES = 400

IMPORT = re.compile(r"^import\s+(?:\*\s+as\s+\w+|\{([^}]*)\})\s+from\s+'([^']+)';", re.M)
EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function|const|let|class)\s+([\w$]+)", re.M)


def front_end_files(suffix: str) -> list[Path]:
    return sorted(p for d in MODULE_DIRS for p in (STATIC / d).glob(f"*{suffix}"))


def test_every_import_names_an_existing_module_and_export():
    modules = [p for p in front_end_files(".js") if p not in CLASSIC]
    assert len(modules) > 20  # the console and the chat are split by concern
    for module in modules:
        for names, target in IMPORT.findall(module.read_text()):
            assert target.startswith("./") or target.startswith("../"), (module, target)
            path = (module.parent / target).resolve()
            assert path.is_file(), f"{module.relative_to(STATIC)} imports missing {target}"
            exported = set(EXPORT.findall(path.read_text()))
            for name in filter(None, (n.split(" as ")[0].strip() for n in names.split(","))):
                assert name in exported, f"{module.relative_to(STATIC)}: {target} has no {name}"


def test_no_front_end_file_grows_past_the_limit():
    too_long = {
        str(p.relative_to(STATIC)): n
        for p in front_end_files(".js") + front_end_files(".css")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/console/"])
def test_pages_load_their_scripts_as_modules_from_static(client, admin_user, path):
    client.force_login(admin_user)
    html = client.get(path).content.decode()
    tags = re.findall(r"<script\b[^>]*>", html)
    assert tags
    for tag in tags:
        assert 'type="module"' in tag, tag
        src = re.search(r'src="/static/([^"]+)"', tag).group(1)
        assert finders.find(src), src


def test_collectstatic_with_compressed_storage_keeps_module_paths(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    # Relative imports need the files under their own names (no hashed copies to rewrite).
    for module in front_end_files(".js"):
        copied = tmp_path / module.relative_to(STATIC)
        assert copied.read_text() == module.read_text()
        assert copied.with_name(copied.name + ".gz").is_file() or copied.stat().st_size < 200
