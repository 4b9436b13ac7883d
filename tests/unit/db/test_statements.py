"""The data layer's statements are whole and typed.

Whole: a statement's text is a literal in its module (or calls a SQL function of a migration), never
assembled from fragments, so what is read is what runs. Typed: a Statement's parameter type names
exactly the `:names` its SQL binds (its row type is checked against real rows by tests/conftest.py).
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import helpdesk.db
from helpdesk.db.statement import Statement

DB_DIR = Path(helpdesk.db.__file__).parent
# Modules that still build statements from parts: views and search assemble a WHERE clause from the
# filters a request gives (bound parameters only).
STILL_ASSEMBLED = {"views.py", "search.py"}


def _modules():
    for info in pkgutil.walk_packages(helpdesk.db.__path__, "helpdesk.db."):
        yield importlib.import_module(info.name)


def _statements():
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, Statement):
                yield pytest.param(value, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("statement", list(_statements()))
def test_a_statement_declares_exactly_the_parameters_it_binds(statement):
    assert statement.parameter_names == statement.declared_parameters, (
        f"binds {sorted(statement.parameter_names)}, its type {statement.params.__name__} declares "
        f"{sorted(statement.declared_parameters)}")


def test_the_ticket_statements_are_typed():
    from helpdesk.db.tickets import changes, conversation, create, followup, reads, tags

    for module in (changes, conversation, create, followup, reads, tags):
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str):
                assert isinstance(value, Statement), f"{module.__name__}.{name} has no parameter and row types"


def _sql_files():
    for path in sorted(DB_DIR.rglob("*.py")):
        if path.name not in STILL_ASSEMBLED:
            yield pytest.param(path, id=str(path.relative_to(DB_DIR)))


@pytest.mark.parametrize("path", list(_sql_files()))
def test_no_statement_is_spliced_together_from_fragments(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    spliced = [node.lineno for node in ast.walk(tree)
               if isinstance(node, ast.JoinedStr) and any(_looks_like_sql(v) for v in node.values)
               or isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
               and isinstance(node.func.value, (ast.Constant, ast.Name))
               or isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
               and any(isinstance(side, ast.Constant) and _looks_like_sql(side) for side in (node.left, node.right))]
    assert not spliced, f"{path.name}: SQL assembled at lines {spliced}; write the statement whole"


_SQL = re.compile(r"\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET|WITH \w+ AS|WHERE|RETURNING)\b")


def _looks_like_sql(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_SQL.search(node.value))
