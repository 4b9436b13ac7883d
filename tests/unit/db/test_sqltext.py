"""Splitting SQL into statements and finding `:params` without touching literals, comments or casts."""
from __future__ import annotations

from helpdesk.db.sqltext import split_statements, tokens
from local.sqlparams import translate


def params(sql: str) -> list[str]:
    return [text for kind, text in tokens(sql) if kind == "param"]


def test_tokens_roundtrip():
    sql = "SELECT ':x', \"a:b\", $$ :y; $$, $t$ :z $t$ -- :c ;\n/* :d; */ :e::uuid, a::text; SELECT 1"
    assert "".join(text for _, text in tokens(sql)) == sql


def test_params_found_and_casts_skipped():
    assert params("SELECT :a::uuid, :b_2, x::text, :c::timestamptz") == [":a", ":b_2", ":c"]


def test_params_ignored_in_literals_and_comments():
    sql = "SELECT ':no', E'it''s :no', \"col:no\", $$ :no $$, $tag$ :no $tag$ -- :no\n /* :no */ , :yes"
    assert params(sql) == [":yes"]


def test_doubled_quotes_stay_in_literal():
    assert params("SELECT 'a'':b''', :c") == [":c"]


def test_array_slice_and_time_literals():
    # "12:30" inside a literal is not a param; arr[1:2] is (PostgreSQL slice) - we only scan code.
    assert params("SELECT '12:30'::time") == []


def test_split_statements():
    script = """
    -- leading comment; with a semicolon
    CREATE TABLE a (x text DEFAULT ';');
    /* block; comment */
    CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1; RETURN NULL;
    END $$;
    INSERT INTO a VALUES ('x;y')  ;
    ;  -- empty statement
    -- trailing comment only
    """
    parts = split_statements(script)
    assert len(parts) == 3
    assert parts[0].endswith("CREATE TABLE a (x text DEFAULT ';')")
    assert "PERFORM 1; RETURN NULL;" in parts[1]
    assert parts[2] == "INSERT INTO a VALUES ('x;y')"


def test_split_single_statement_without_semicolon():
    assert split_statements("SELECT 1") == ["SELECT 1"]
    assert split_statements("SELECT 1;") == ["SELECT 1"]
    assert split_statements("  -- nothing\n /* at all */ ") == []


def test_unterminated_literal_does_not_hang():
    assert split_statements("SELECT 'abc") == ["SELECT 'abc"]
    assert split_statements("SELECT $$abc") == ["SELECT $$abc"]
    assert split_statements("SELECT 1 /* open") == ["SELECT 1 /* open"]


def test_translate_rewrites_params_and_escapes_percent():
    t = translate("SELECT :a, :b::int, '%' || :a, 'x:y' WHERE c LIKE '50%'", {"a": "uuid"})
    assert t.sql == "SELECT %(a)s::uuid, %(b)s::int, '%%' || %(a)s::uuid, 'x:y' WHERE c LIKE '50%%'"
    assert t.names == ("a", "b")
    assert t.statements == 1


def test_translate_counts_statements():
    assert translate("SELECT 1; SELECT 2").statements == 2
    assert translate("SELECT ';'; -- x").statements == 1
