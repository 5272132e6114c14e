"""Requests to the simulated SageMaker checked against botocore's service model, answered in AWS's words.

Types, required and unknown members with ``botocore.validate.ParamValidator``, then the ``pattern``, ``min``,
``max`` and ``enum`` constraints that the client-side validator leaves to the service ("1 validation error
detected: Value 'x' at 'userProfileName' failed to satisfy constraint: ...").
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from typing import Any

import botocore.loaders
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.validate import ParamValidator

log = logging.getLogger("local.sagemaker_sim")

# Status codes AWS uses for the common errors (JSON protocol); anything else defaults to 400.
_DEFAULT_STATUS = {"InternalFailure": 500, "InternalServerError": 500, "ServiceUnavailable": 503}


class SimError(Exception):
    """An AWS JSON error response: ``{"__type": code, "message": ...}`` with ``status``."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else _DEFAULT_STATUS.get(code, 400)


@cache
def service_model() -> ServiceModel:
    # The loader alone: a botocore Session would read AWS_PROFILE and ~/.aws/config, which are not ours.
    loader = botocore.loaders.create_loader()
    return ServiceModel(loader.load_service_model("sagemaker", "service-2"), service_name="sagemaker")


# Java's Unicode classes (used in some SageMaker patterns) have no equivalent in Python's re: approximate
# each by ranges covering the common scripts. Approximations err on the side of accepting.
_UNICODE_CLASSES = {
    "L": r"A-Za-z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02c1\u02c6-\u02d1\u0370-\u03ff"
    r"\u0400-\u052f\u0531-\u0587\u05d0-\u05ea\u0620-\u064a\u0671-\u06d3\u0900-\u0dff\u0e00-\u0e7f"
    r"\u1000-\u1fff\u2c00-\u2dff\u3040-\u30ff\u3400-\u9fff\ua000-\ud7a3\uf900-\ufaff\uff21-\uff3a"
    r"\uff41-\uff5a\uff66-\uffdc",
    "N": r"0-9\u00b2\u00b3\u00b9\u00bc-\u00be\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\u2150-\u218b"
    r"\u2460-\u249b\uff10-\uff19",
    "Z": r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
    "M": r"\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u064b-\u065f\u093a-\u094f\u1ab0-\u1aff\u1dc0-\u1dff"
    r"\u20d0-\u20ff\ufe20-\ufe2f",
    "S": r"$+<=>^`|~\u00a2-\u00a9\u00ac\u00ae-\u00b1\u00b4\u00b8\u00d7\u00f7\u02c2-\u02c5\u2044\u20a0-\u20c0"
    r"\u2100-\u214f\u2190-\u23ff\u2500-\u27bf\u2900-\u2bff",
    "P": r"!-#%-*,-/:;?@\[-\]_{}\u00a1\u00a7\u00ab\u00b6\u00b7\u00bb\u00bf\u2010-\u2027\u2030-\u2043"
    r"\u2045-\u2051\u2053-\u205e\u3001-\u3003",
    "Alnum": "A-Za-z0-9",
    "Alpha": "A-Za-z",
    "Digit": "0-9",
    "Upper": "A-Z",
    "Lower": "a-z",
}
_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


def _java_to_python_regex(pattern: str) -> str:
    def pair(match: re.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return "\\U%08X" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))

    pattern = _SURROGATE_PAIR.sub(pair, pattern)
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and pattern.startswith(("\\p{", "\\P{"), i):
            end = pattern.index("}", i)
            name = pattern[i + 3 : end].removeprefix("Is")
            ranges = _UNICODE_CLASSES.get(name)
            if ranges is None or pattern[i + 1] == "P":
                raise ValueError(f"unsupported class {pattern[i : end + 1]}")
            out.append(ranges if in_class else f"[{ranges}]")
            i = end + 1
            continue
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class and out and out[-1] != "[":
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java) pattern as a Python regex, or None when it cannot be translated (not checked)."""
    try:
        return re.compile(_java_to_python_regex(pattern))
    except (ValueError, re.error):
        log.debug("pattern not checked (cannot translate): %s", pattern)
        return None


def _member_path(parent: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{parent}.{name}" if parent else name


def _shown(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def constraint_errors(shape: Shape, value: Any, path: str = "") -> list[str]:
    """AWS-style messages for every ``required``/``min``/``max``/``pattern``/``enum`` violation in ``value``.

    Types are assumed checked already (``ParamValidator``). Patterns must match the whole value, as the
    service's validator does.
    """
    errors: list[str] = []
    meta = shape.metadata
    kind = shape.type_name

    def fail(constraint: str) -> None:
        errors.append(f"Value '{_shown(value)}' at '{path}' failed to satisfy constraint: Member must {constraint}")

    if kind == "structure":
        members = shape.members
        for name, member in members.items():
            member_path = _member_path(path, name)
            if value.get(name) is None:
                if name in shape.required_members:
                    errors.append(
                        f"Value null at '{member_path}' failed to satisfy constraint: Member must not be null"
                    )
                continue
            errors += constraint_errors(member, value[name], member_path)
        return errors
    if kind in ("list", "map", "string", "blob"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            fail(f"have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            fail(f"have length less than or equal to {meta['max']}")
    if kind == "list":
        for index, item in enumerate(value, start=1):
            errors += constraint_errors(shape.member, item, f"{path}.{index}.member")
    elif kind == "map":
        for key, item in value.items():
            errors += constraint_errors(shape.key, key, f"{path}.key")
            errors += constraint_errors(shape.value, item, f"{path}.{key}.value")
    elif kind == "string":
        enum = meta.get("enum")
        if enum and value not in enum:
            fail(f"satisfy enum value set: [{', '.join(enum)}]")
        regex = _compiled(meta["pattern"]) if "pattern" in meta else None
        if regex is not None and not regex.fullmatch(value):
            fail(f"satisfy regular expression pattern: {meta['pattern']}")
    elif kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            fail(f"have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            fail(f"have value less than or equal to {meta['max']}")
    return errors


# Left to constraint_errors, which words them as the service does.
_BOTOCORE_RANGE_ERRORS = ("Invalid value for parameter", "Invalid length for parameter", "Missing required parameter")


def check_member(shape_name: str, value: Any) -> None:
    """``ValueError`` unless ``value`` satisfies the service model's shape (for the hooks' arguments)."""
    errors = constraint_errors(service_model().shape_for(shape_name), value, shape_name)
    if errors:
        raise ValueError("; ".join(errors))


def _validation_error(messages: list[str]) -> SimError:
    count = len(messages)
    noun = "error" if count == 1 else "errors"
    return SimError("ValidationException", f"{count} validation {noun} detected: " + "; ".join(messages))


def validate_input(operation: OperationModel, params: dict[str, Any]) -> None:
    """Raise ``SimError(ValidationException)`` unless ``params`` satisfies the operation's input shape."""
    shape = operation.input_shape
    if shape is None:
        if params:
            raise _validation_error([f"Unknown parameter in input: {sorted(params)}"])
        return
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        # Types and unknown members; required members and min checks are left to constraint_errors.
        lines = [line.strip() for line in report.generate_report().splitlines()]
        lines = [line for line in lines if line and not line.startswith(_BOTOCORE_RANGE_ERRORS)]
        if lines:
            raise _validation_error(lines)
    errors = constraint_errors(shape, params)
    if errors:
        raise _validation_error(errors)
