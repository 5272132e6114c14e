"""The shipped catalogs against the texts in the code.

Each text in the templates and each N_() text in lambda/portal is extracted afresh (as `make messages` does,
from babel.cfg) and must be translated in every shipped language, without keeping a placeholder out, adding
one or breaking the markup around it; each compiled .mo must be its .po compiled (`make translations`).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "lambda" / "portal", ROOT / "templates")
TRANSLATED = [language for language in i18n.SHIPPED_LANGUAGES if language != i18n.SOURCE_LANGUAGE]
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def extracted_texts() -> dict[str, str]:
    """Message id -> where it is written, from the sources as they are now."""
    with (ROOT / "babel.cfg").open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found: dict[str, str] = {}
    for directory in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(directory, method_map, options_map):
            msgid = message if isinstance(message, str) else message[0]
            found.setdefault(msgid, f"{directory.relative_to(ROOT)}/{filename}:{lineno}")
    return found


def catalog_path(language: str, suffix: str) -> Path:
    return i18n.LOCALE_DIR / i18n.catalog_name(language) / "LC_MESSAGES" / f"{i18n.DOMAIN}.{suffix}"


def read_catalog(language: str) -> Catalog:
    with catalog_path(language, "po").open("rb") as source:
        return read_po(source, locale=i18n.catalog_name(language))


def placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PYTHON_FORMAT.finditer(text) if match.group(0) != "%%")


def translation_problems(msgid: str, msgstr: str) -> list[str]:
    """What a translation breaks: a value left out, added or changed, markup changed, a character that would be
    markup (or end an attribute), or a stray '%'."""
    problems = []
    if placeholders(msgid) != placeholders(msgstr):
        problems.append(f"placeholders {sorted(placeholders(msgid))} became {sorted(placeholders(msgstr))}")
    if Counter(_TAG.findall(msgid)) != Counter(_TAG.findall(msgstr)):
        problems.append(f"markup {sorted(_TAG.findall(msgid))} became {sorted(_TAG.findall(msgstr))}")
    # Translations go into the page unescaped (they are ours, like the templates) and some into attributes.
    for character in '<>&"':
        if _TAG.sub("", msgstr).count(character) > _TAG.sub("", msgid).count(character):
            problems.append(f"adds {character!r} outside the markup (use typographic quotes)")
    values = {match.group(1): "x" for match in PYTHON_FORMAT.finditer(msgid) if match.group(1)}
    try:
        msgstr % values
    except (KeyError, ValueError, TypeError) as error:
        problems.append(f"does not format ({type(error).__name__}: {error})")
    return problems


def catalog_problems(catalog: Catalog, texts: Iterable[str]) -> list[str]:
    texts = set(texts)
    problems = []
    for msgid in sorted(texts):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            problems.append(f"not translated: {msgid!r}")
    for message in catalog:
        if not message.id:
            continue  # the header
        if message.id not in texts:
            problems.append(f"no longer in the code (run make messages): {message.id!r}")
        elif message.string and not message.fuzzy:
            problems += [f"{message.id!r}: {problem}" for problem in translation_problems(message.id, message.string)]
    return problems


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return extracted_texts()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated_in_every_shipped_language_keeping_its_values_and_markup(texts, language):
    assert catalog_problems(read_catalog(language), texts) == []


def test_the_template_of_the_catalogs_is_current(texts):
    with (i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot").open("rb") as source:
        template = read_po(source)
    assert sorted(message.id for message in template if message.id) == sorted(texts)


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_compiled_catalog_is_its_source_compiled(language):
    """The function reads the .mo files: one that lags behind its .po would show old or English texts."""
    with catalog_path(language, "mo").open("rb") as compiled:
        shipped = {message.id: message.string for message in read_mo(compiled) if message.id}
    source = {message.id: message.string for message in read_catalog(language)
              if message.id and message.string and not message.fuzzy}
    assert shipped == source, "run make translations"


def test_the_check_finds_what_a_translation_can_get_wrong():
    """The checks above pass on good catalogs; here each thing they look for is wrong once."""
    texts = {"Sign out": "", "Signed in as <strong>%(identity)s</strong>.": "",
             "The space %(space)s in %(target)s is private.": "", "Try again": "", "Quote %(ref)s.": "",
             "Ask %(team)s.": "", "Check now": ""}
    catalog = Catalog(locale="de")
    catalog.add("Sign out", "Abmelden")
    catalog.add("Signed in as <strong>%(identity)s</strong>.", "Angemeldet als %(identity)s.")  # markup lost
    catalog.add("The space %(space)s in %(target)s is private.", "Der Bereich %(space)s ist privat.")  # dropped
    catalog.add("Quote %(ref)s.", "Nennen Sie %(reference)s.")  # renamed
    catalog.add("Ask %(team)s.", "Fragen Sie %(team)s (100 %).")  # a stray '%'
    catalog.add("Try again", "Erneut versuchen", flags=["fuzzy"])  # not confirmed
    catalog.add("Check now", 'Jetzt "prüfen" & <b>los')  # would end an attribute, start an entity and a tag
    catalog.add("Gone", "Weg")  # no longer in the code
    problems = catalog_problems(catalog, texts)
    assert problems == [
        "not translated: 'Try again'",
        "'Signed in as <strong>%(identity)s</strong>.': markup ['</strong>', '<strong>'] became []",
        "'The space %(space)s in %(target)s is private.': placeholders ['%(space)s', '%(target)s'] became "
        "['%(space)s']",
        "'Quote %(ref)s.': placeholders ['%(ref)s'] became ['%(reference)s']",
        "'Quote %(ref)s.': does not format (KeyError: 'reference')",
        "'Ask %(team)s.': does not format (TypeError: not enough arguments for format string)",
        "'Check now': markup [] became ['<b>']",
        "'Check now': adds '&' outside the markup (use typographic quotes)",
        "'Check now': adds '\"' outside the markup (use typographic quotes)",
        "no longer in the code (run make messages): 'Gone'",
    ]
    assert catalog_problems(catalog, {"Sign out"}) != [] and catalog_problems(Catalog(locale="de"), {}) == []
    good = Catalog(locale="de")
    good.add("Signed in as <strong>%(identity)s</strong>.", "Angemeldet: <strong>%(identity)s</strong> (100 %%).")
    assert catalog_problems(good, {"Signed in as <strong>%(identity)s</strong>."}) == []


# Page texts written in Python: keyword arguments and class attributes that reach a page's context.
PAGE_TEXT_NAMES = ("message", "default_message", "problem")


def untranslatable_page_texts(source: str) -> list[str]:
    """Where a page text in Python (``message=`` of an error, an error's ``default_message``) is not marked with
    N_() (a literal, an f-string, a plain variable), so that `make messages` would miss it and the page would
    show it in English. A parameter annotated ``Text`` counts as marked: its callers must pass N_()."""
    found: list[str] = []

    def marked(value: ast.expr, text_parameters: set[str]) -> bool:
        if isinstance(value, ast.Constant) and value.value is None:
            return True
        if isinstance(value, ast.Name):
            return value.id in text_parameters
        return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "N_"

    def constructs_an_error(call: ast.Call) -> bool:  # SignInFailed(...), errors.BadRequest(...)
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
        return name[:1].isupper()

    def visit(node: ast.AST, text_parameters: set[str]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            text_parameters = {arg.arg for arg in node.args.args + node.args.kwonlyargs
                               if isinstance(arg.annotation, ast.Name) and arg.annotation.id == "Text"}
        elif isinstance(node, ast.Call) and constructs_an_error(node):
            found.extend(f"line {keyword.value.lineno}: {keyword.arg}=" for keyword in node.keywords
                         if keyword.arg in PAGE_TEXT_NAMES and not marked(keyword.value, text_parameters))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and not marked(node.value, text_parameters) and any(
                    isinstance(target, ast.Name) and target.id in PAGE_TEXT_NAMES for target in targets):
                found.append(f"line {node.lineno}: {ast.unparse(targets[0])} =")
        for child in ast.iter_child_nodes(node):
            visit(child, text_parameters)

    visit(ast.parse(source), set())
    return sorted(found, key=lambda where: int(where.split()[1].rstrip(":")))


def test_every_page_text_written_in_python_is_marked_for_translation():
    sources = sorted((ROOT / "lambda" / "portal").glob("*.py"))
    found = {path.name: problems for path in sources
             if (problems := untranslatable_page_texts(path.read_text()))}
    assert found == {}, "wrap these in N_() (portal/i18n.py), then make messages"


def test_the_scan_finds_unmarked_page_texts():
    source = '''
def bad(message: str) -> None:
    raise BadRequest("x", message=message)
def good(message: Text) -> None:
    raise BadRequest("x", message=message)
class Shown(PortalError):
    default_message = "Not marked."
class Marked(PortalError):
    default_message = N_("Marked.")
raise SignInFailed("x", message=f"Hello {name}")
raise SignInFailed("x", message=N_("Hello %(name)s", name=name))
raise SignInFailed("x", message=None)
warnings.filterwarnings("ignore", message="not a page text")
'''
    assert untranslatable_page_texts(source) == ["line 3: message=", "line 7: default_message =", "line 10: message="]
