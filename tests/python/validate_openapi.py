"""Validates an OpenAPI document with openapi-spec-validator.

Usage: validate_openapi.py FILE. Prints the validator's version and every
error it finds; exits 1 when there is one.
"""
import json
import sys
from importlib.metadata import version

from openapi_spec_validator import OpenAPIV31SpecValidator, validate


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    print(f"openapi-spec-validator {version('openapi-spec-validator')}, document {doc.get('openapi')}")
    errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
    for e in errors:
        print(f"error at {'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
    if errors:
        return 1
    # The same check the validator's command line runs, as a second opinion.
    validate(doc)
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
