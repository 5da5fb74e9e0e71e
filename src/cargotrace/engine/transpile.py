"""DuckDB-dialect stage SQL to Spark SQL: sqlglot's transpiler plus the rewrites where the two
dialects agree on spelling but not on meaning.

The stages (maritime/*.py, ...) are written once, in DuckDB's dialect. `to_spark` parses a
statement with sqlglot (read="duckdb"), rewrites the constructs below on the syntax tree and
prints Spark SQL (write="spark"). What changes, and why:

* `epoch(ts)` is seconds *with* the fraction in DuckDB; sqlglot's `unix_timestamp` truncates
  to whole seconds. -> `unix_micros(ts) / 1e6`.
* `to_timestamp(seconds)` -> `timestamp_seconds(seconds)` (keeps microseconds).
* `median(x)`, `quantile_cont(x, q)` are exact and interpolated in DuckDB -> `percentile(x, q)`
  (exact in Spark; never `percentile_approx`). `quantile_disc`/`quantile` ->
  `percentile_disc(q) WITHIN GROUP (ORDER BY x)`. `approx_quantile` has no equal on the other
  engine (T-digest vs Greenwald-Khanna): it becomes the exact `percentile` and is reported by
  `portability_issues`.
* `list(x ORDER BY k)` / `array_agg` / `string_agg(x, sep ORDER BY k)`: DuckDB honours the
  ORDER BY and keeps NULL elements; Spark's `collect_list` does neither. -> the values are
  collected as structs (so NULLs survive), sorted with an explicit comparator (DuckDB's
  NULLS LAST default) and unwrapped. Under `FILTER (WHERE ...)` DuckDB returns NULL, not an
  empty list, when no row passes: kept.
* `len(list)` -> `size(list)` (sqlglot prints `length`, which is for strings in Spark). Whether
  an argument is a list is inferred from the expression (list literal, aggregate) or from the
  column types of the tables registered with Spark (`TypeHints`).
* `CAST(ts AS VARCHAR)` of a TIMESTAMPTZ prints `2022-01-03 00:00:00+00` in DuckDB (UTC
  session) and `2022-01-03 00:00:00` in Spark; ids hashed from such text (port_call_id,
  gap_id) must agree. -> `+00` is appended when the operand is a timestamp (decided from the
  type hints, else at run time with `typeof`).
* `CAST(double AS INTEGER)` rounds half to even in DuckDB and truncates in Spark ->
  `CAST(bround(x) AS INT)` (`round`, half away from zero, for a DECIMAL operand).
* `round(x, n)` on a DOUBLE is `std::round(x * 10^n) / 10^n` in DuckDB (round(1.005, 2) =
  1.0) but rounds the double's decimal text in Spark (1.01) -> `round(x * 1eN, 0) / 1eN`.
* `arg_min(x, k)` skips rows where `x` is NULL in DuckDB; Spark's `min_by` does not ->
  `min_by(x, CASE WHEN x IS NOT NULL THEN k END)` (same for `arg_max`).
* QUALIFY -> a derived table filtered on the window column (sqlglot's `eliminate_qualify`,
  applied by its Spark generator).
* DDL: `CREATE [OR REPLACE] [TEMP] TABLE t AS q` -> a `SparkStatement` (the caller keeps the
  result as a checkpointed DataFrame / temp view); `DELETE FROM t WHERE c` -> `t := SELECT *
  FROM t WHERE NOT coalesce(c, FALSE)`; `INSERT INTO t q` -> `t := t UNION ALL q`;
  `DROP TABLE/VIEW t` -> forget t.

Spark must run with `spark.sql.ansi.enabled=false` (DuckDB's NULL-on-failure casts and
division) and `spark.sql.session.timeZone=UTC` (DuckDB's case connection is UTC).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp

READ = "duckdb"
WRITE = "spark"

Kind = Literal["create", "delete", "insert", "drop", "query"]

_INT_TYPES = {
    exp.DataType.Type.TINYINT,
    exp.DataType.Type.SMALLINT,
    exp.DataType.Type.INT,
    exp.DataType.Type.BIGINT,
}
_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR}
_ARRAY_FUNCS: tuple[type[exp.Expr], ...] = (
    exp.Array,
    exp.ArrayAgg,
    exp.ArrayConcat,
    exp.ArraySort,
    exp.Split,
)
_BOOLEAN_NODES: tuple[type[exp.Expr], ...] = (
    exp.Predicate,
    exp.Connector,
    exp.Not,
    exp.Boolean,
)


class TranspileError(ValueError):
    """A statement uses a construct with no faithful Spark equivalent."""


@dataclass(frozen=True)
class SparkStatement:
    """One DuckDB statement in Spark terms.

    kind "create": `table` := `sql` (a Spark query); `persistent` is False for TEMP tables.
    kind "delete" / "insert": `table` := `sql` (already rewritten as a query over `table`).
    kind "drop": forget `table`. kind "query": run `sql` for its result.
    """

    kind: Kind
    table: str | None
    sql: str
    persistent: bool = False
    source: str = ""


@dataclass
class TypeHints:
    """Column types known by name (from the tables registered with Spark), lower-case
    Spark type strings such as 'timestamp', 'array<string>', 'boolean'. A name seen with
    several types is ambiguous and gives no hint."""

    columns: dict[str, set[str]] = field(default_factory=dict)

    def add(self, name: str, spark_type: str) -> None:
        self.columns.setdefault(name.lower(), set()).add(spark_type.lower())

    def of(self, name: str) -> str | None:
        types = self.columns.get(name.lower())
        return next(iter(types)) if types and len(types) == 1 else None

    @classmethod
    def from_schemas(cls, schemas: Mapping[str, Mapping[str, str]]) -> TypeHints:
        hints = cls()
        for columns in schemas.values():
            for name, spark_type in columns.items():
                hints.add(name, spark_type)
        return hints


# ----------------------------------------------------------------------------- public API
def parse(sql: str) -> list[exp.Expr]:
    return [e for e in sqlglot.parse(sql, read=READ) if e is not None]


def to_spark(sql: str, hints: TypeHints | None = None) -> list[SparkStatement]:
    """Translate one or more DuckDB statements into Spark statements."""
    hints = hints or TypeHints()
    return [_statement(tree, hints, sql) for tree in parse(sql)]


def expression_to_spark(sql: str, hints: TypeHints | None = None) -> str:
    """Translate a DuckDB query (or expression list) without DDL: for ad-hoc SELECTs."""
    [tree] = parse(sql)
    return _generate(_rewrite(tree, hints or TypeHints()))


def referenced_tables(sql: str) -> set[str]:
    """Tables a statement reads (CTE names excluded), lower-case."""
    names: set[str] = set()
    for tree in parse(sql):
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        target = _target(tree)
        for table in tree.find_all(exp.Table):
            if table is target or not table.name:
                continue
            name = table.name.lower()
            if name not in ctes:
                names.add(name)
        if isinstance(tree, (exp.Delete, exp.Insert)) and target is not None:
            names.add(target.name.lower())  # the rewrite reads the table it changes
    return names


def created_tables(sql: str) -> list[tuple[str, bool]]:
    """(table, persistent) for every table a statement creates or changes."""
    out = []
    for tree in parse(sql):
        target = _target(tree)
        if target is None or isinstance(tree, exp.Drop):
            continue
        out.append((target.name.lower(), isinstance(tree, exp.Create) and not _is_temporary(tree)))
    return out


def referenced_columns(sql: str) -> set[str]:
    """Every column name a statement mentions (lower-case); a superset of what it reads."""
    return {c.name.lower() for tree in parse(sql) for c in tree.find_all(exp.Column) if c.name}


def star_tables(sql: str) -> set[str]:
    """Tables whose every column a statement selects (`SELECT *`, `t.*` straight from them)."""
    names: set[str] = set()
    for tree in parse(sql):
        for select in tree.find_all(exp.Select):
            sources = {
                s.alias_or_name.lower(): s.name.lower()
                for s in _sources(select)
                if isinstance(s, exp.Table)
            }
            for projection in select.expressions:
                if isinstance(projection, exp.Star):
                    names |= set(sources.values())
                elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                    if projection.table.lower() in sources:
                        names.add(sources[projection.table.lower()])
    return names


def portability_issues(sql: str) -> list[str]:
    """Constructs whose result cannot be the same on DuckDB and Spark."""
    issues = []
    for tree in parse(sql):
        for node in tree.find_all(exp.ApproxQuantile):
            issues.append(
                f"{node.sql(READ)}: approximate quantiles differ between engines "
                "(DuckDB T-digest, Spark Greenwald-Khanna); use quantile_disc (exact, a value of the column) instead"
            )
    return issues


# ----------------------------------------------------------------------------- statements
def _target(tree: exp.Expr) -> exp.Table | None:
    if isinstance(tree, (exp.Create, exp.Insert, exp.Delete, exp.Drop)):
        node = tree.this
        if isinstance(node, exp.Schema):
            node = node.this
        return node if isinstance(node, exp.Table) else None
    return None


def _is_temporary(tree: exp.Create) -> bool:
    props = tree.args.get("properties")
    return bool(props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions))


def _statement(tree: exp.Expr, hints: TypeHints, source: str) -> SparkStatement:
    text = tree.sql(READ)
    if isinstance(tree, exp.Create):
        target = _target(tree)
        query = tree.expression
        kind = str(tree.args.get("kind") or "").upper()
        if target is None or kind not in ("TABLE", "VIEW") or not isinstance(query, exp.Query):
            raise TranspileError(f"only CREATE TABLE/VIEW ... AS SELECT is supported: {text[:200]}")
        if _is_temporary(tree):
            query = _drop_top_order(query)
        return SparkStatement("create", target.name.lower(), _generate(_rewrite(query, hints)),
                              persistent=not _is_temporary(tree), source=text)  # fmt: skip
    if isinstance(tree, exp.Delete):
        target = _target(tree)
        where = tree.args.get("where")
        if target is None:
            raise TranspileError(f"unsupported DELETE: {text[:200]}")
        cond = where.this if where is not None else exp.true()
        keep = (
            exp.select("*")
            .from_(target.copy())
            .where(exp.not_(exp.func("coalesce", exp.paren(cond.copy()), exp.false())))
        )
        return SparkStatement(
            "delete", target.name.lower(), _generate(_rewrite(keep, hints)), source=text
        )
    if isinstance(tree, exp.Insert):
        target = _target(tree)
        if (
            target is None
            or isinstance(tree.this, exp.Schema)
            or not isinstance(tree.expression, exp.Query)
        ):
            raise TranspileError(
                f"only INSERT INTO t SELECT ... (no column list) is supported: {text[:200]}"
            )
        query = exp.Union(this=exp.select("*").from_(target.copy()),
                          expression=exp.select("*").from_(tree.expression.copy().subquery("ins")), distinct=False)  # fmt: skip
        return SparkStatement(
            "insert", target.name.lower(), _generate(_rewrite(query, hints)), source=text
        )
    if isinstance(tree, exp.Drop):
        target = _target(tree)
        return SparkStatement("drop", target.name.lower() if target else None, "", source=text)
    if isinstance(tree, exp.Query):
        return SparkStatement("query", None, _generate(_rewrite(tree, hints)), source=text)
    raise TranspileError(f"unsupported statement for the Spark engine: {text[:200]}")


def _drop_top_order(query: exp.Query) -> exp.Query:
    """A temp table's row order means nothing; a global sort costs a shuffle."""
    if isinstance(query, exp.Select) and query.args.get("order") and not query.args.get("limit"):
        query = query.copy()
        query.set("order", None)
    return query


def _generate(tree: exp.Expr) -> str:
    return tree.sql(dialect=WRITE, identify=True)


# ----------------------------------------------------------------------------- rewrites
def _each(tree: exp.Expr, cls: type[exp.Expr] | tuple[type[exp.Expr], ...]) -> list[exp.Expr]:
    """Nodes of a class, innermost first, so a rewrite sees already rewritten children."""
    classes = cls if isinstance(cls, tuple) else (cls,)
    return list(reversed(list(tree.find_all(*classes))))


def _replace(node: exp.Expr, new: exp.Expr) -> None:
    node.replace(new)


def _rewrite(tree: exp.Expr, hints: TypeHints) -> exp.Expr:
    tree = tree.copy()
    _decorrelate_aggregates(tree)
    arrays = _array_aliases(tree, hints)
    for node in _each(tree, exp.TimeToUnix):
        _replace(node, exp.Div(this=exp.Anonymous(this="unix_micros", expressions=[node.this]),
                               expression=exp.Literal.number("1e6")))  # fmt: skip
    for node in _each(tree, exp.UnixToTime):
        scale = node.args.get("scale")
        if scale is not None and scale.name not in ("0", "seconds"):
            raise TranspileError(f"to_timestamp with a scale is not supported: {node.sql(READ)}")
        _replace(node, exp.Anonymous(this="timestamp_seconds", expressions=[node.this]))
    for node in _each(tree, exp.Round):
        _rewrite_round(node, hints)  # type: ignore[arg-type]
    for node in _each(tree, exp.Median):
        _replace(
            node,
            exp.Anonymous(this="percentile", expressions=[node.this, exp.Literal.number("0.5")]),
        )
    for node in _each(tree, (exp.PercentileCont, exp.ApproxQuantile)):
        q = node.args.get("expression") or node.args.get("quantile")
        if node.args.get("within_group") or q is None:
            continue  # already SQL-standard WITHIN GROUP form: sqlglot prints it for Spark
        _replace(node, exp.Anonymous(this="percentile", expressions=[node.this, q]))
    for node in _each(tree, (exp.PercentileDisc, exp.Quantile)):
        q = node.args.get("expression") or node.args.get("quantile")
        if q is None:
            continue
        _replace(node, exp.WithinGroup(this=exp.Anonymous(this="percentile_disc", expressions=[q]),
                                       expression=exp.Order(expressions=[exp.Ordered(this=node.this)])))  # fmt: skip
    for node in _each(tree, (exp.ArgMin, exp.ArgMax)):
        value, key = node.this, node.expression
        guarded = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
                                       true=key)])  # fmt: skip
        _replace(node, exp.Anonymous(this="min_by" if isinstance(node, exp.ArgMin) else "max_by",
                                     expressions=[value, guarded]))  # fmt: skip
    for node in _each(tree, exp.Filter):
        if isinstance(node.this, (exp.ArrayAgg, exp.GroupConcat)):
            _replace(node, _list_aggregate(node.this, node.args["expression"]))
    for node in _each(tree, (exp.ArrayAgg, exp.GroupConcat)):
        if node.parent is not None:
            _replace(node, _list_aggregate(node, None))
    for node in _each(tree, (exp.Cast, exp.TryCast)):
        _rewrite_cast(node, hints)  # type: ignore[arg-type]
    for node in _each(tree, (exp.Length, exp.ArraySize)):
        if isinstance(node, exp.ArraySize) or _is_array(node.this, arrays, hints):
            _replace(node, _bigint(exp.Anonymous(this="size", expressions=[node.this])))
        else:
            _replace(node, _bigint(node.copy()))
    for node in _each(tree, exp.Window):  # INT in Spark, BIGINT in DuckDB
        if isinstance(node.this, (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)):
            _replace(node, _bigint(node.copy()))
    return tree


def _rewrite_round(node: exp.Round, hints: TypeHints) -> None:
    """DuckDB rounds a DOUBLE as `std::round(x * 10^n) / 10^n` (so round(1.005, 2) = 1.0,
    round(2.675, 2) = 2.68); Spark rounds the double's shortest decimal text half up
    (1.01). Spark's `round(y, 0)` is half away from zero, like std::round, hence
    `round(x * 1eN, 0) / 1eN`. A DECIMAL operand rounds exactly on both engines: unchanged."""
    places = node.args.get("decimals")
    if (
        not isinstance(places, exp.Literal)
        or places.is_string
        or not places.name.isdigit()
        or int(places.name) == 0
    ):
        return
    if (_type_hint(node.this, hints) or "").startswith("decimal"):
        return
    scale = exp.Literal.number(f"1e{int(places.name)}")
    scaled = exp.Round(this=exp.Mul(this=exp.paren(node.this.copy()), expression=scale.copy()),
                       decimals=exp.Literal.number(0))  # fmt: skip
    _replace(node, exp.paren(exp.Div(this=scaled, expression=scale)))


def _bigint(node: exp.Expr) -> exp.Expr:
    return exp.Cast(this=node, to=exp.DataType.build("BIGINT"))


def _rewrite_cast(node: exp.Cast, hints: TypeHints) -> None:
    to = node.to.this if isinstance(node.to, exp.DataType) else None
    inner = node.this
    if isinstance(inner, exp.Literal) or isinstance(inner, exp.Null):
        return
    if to in _TEXT_TYPES:
        kind = _type_hint(inner, hints)
        if kind is not None and kind != "timestamp":
            return
        text = node.copy()
        utc = exp.func("concat", text.copy(), exp.Literal.string("+00"))
        if kind == "timestamp":
            _replace(node, utc)
            return
        is_ts = exp.EQ(
            this=exp.Anonymous(this="typeof", expressions=[inner.copy()]),
            expression=exp.Literal.string("timestamp"),
        )
        _replace(node, exp.Case(ifs=[exp.If(this=is_ts, true=utc)], default=text))
    elif to in _INT_TYPES:
        kind = _type_hint(inner, hints) or ""
        exact = (
            "boolean",
            "string",
            "date",
            "timestamp",
            "timestamp_ntz",
            "bigint",
            "int",
            "smallint",
            "tinyint",
        )
        if isinstance(inner, (exp.Floor, exp.Ceil, exp.Round, *_BOOLEAN_NODES)) or kind in exact:
            return
        # DuckDB rounds DOUBLE half to even, DECIMAL half away from zero (Spark's `round`)
        how = "round" if kind.startswith("decimal") else "bround"
        inner.replace(exp.Anonymous(this=how, expressions=[inner.copy()]))


def _type_hint(node: exp.Expr, hints: TypeHints) -> str | None:
    """A type from the expression's form, else from the type hints by column name."""
    if isinstance(node, exp.Paren):
        return _type_hint(node.this, hints)
    if isinstance(node, exp.Cast) and isinstance(node.to, exp.DataType):
        t = node.to.this
        if t in _TEXT_TYPES:
            return "string"
        if t in _INT_TYPES:
            return "bigint"
        if t in (exp.DataType.Type.DATE,):
            return "date"
        if t in (
            exp.DataType.Type.TIMESTAMPTZ,
            exp.DataType.Type.TIMESTAMP,
            exp.DataType.Type.TIMESTAMPLTZ,
        ):
            return "timestamp"
        return None
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod)) and not _mentions_time(node):
        return "number"
    if isinstance(node, (exp.Upper, exp.Lower, exp.Concat, exp.DPipe, exp.ConcatWs, exp.Trim)):
        return "string"
    if isinstance(node, (exp.Count, exp.RowNumber)):
        return "bigint"
    if isinstance(node, _BOOLEAN_NODES):
        return "boolean"
    if isinstance(node, exp.Column):
        return hints.of(node.name)
    return None


def _mentions_time(node: exp.Expr) -> bool:
    return any(isinstance(n, (exp.Interval, exp.Cast)) for n in node.walk())


# ----------------------------------------------------------------------------- subqueries
def _decorrelate_aggregates(tree: exp.Expr) -> None:
    """Spark rejects an aggregate whose argument mixes the subquery's columns with the outer
    query's (`(SELECT arg_min(p.locode, dist(p, s)) FROM ports p WHERE ...)`), but accepts
    the same correlation in a derived table's projection. So the aggregate arguments move
    into a derived table: `SELECT agg(__c0) FROM (SELECT <arg> AS __c0 FROM ... WHERE ...)`."""
    for sub in _each(tree, exp.Subquery):
        select = sub.this
        if (
            not isinstance(select, exp.Select)
            or select.args.get("group")
            or not select.args.get("from_")
        ):
            continue
        local = {s.alias_or_name.lower() for s in _sources(select)}
        aggs = [a for proj in select.expressions for a in proj.find_all(exp.AggFunc)]
        args = [
            arg
            for agg in aggs
            for arg in agg.iter_expressions()
            if not isinstance(arg, (exp.Star, exp.Literal))
        ]
        outer = any(
            c.table and c.table.lower() not in local
            for arg in args
            for c in arg.find_all(exp.Column)
        )
        if not outer:
            continue
        inner: list[exp.Expr] = []
        for i, arg in enumerate(args):
            inner.append(exp.alias_(arg.copy(), f"__c{i}"))
            arg.replace(exp.column(f"__c{i}", table="__sq"))
        derived = exp.Select(expressions=inner, **{k: select.args[k].copy() for k in ("from_", "joins", "where")
                                                   if select.args.get(k)})  # fmt: skip
        select.set("from_", exp.From(this=derived.subquery("__sq")))
        select.set("joins", None)
        select.set("where", None)


def _sources(select: exp.Select) -> list[exp.Expr]:
    sources = []
    from_ = select.args.get("from_")
    if from_ is not None:
        sources.append(from_.this)
    sources += [j.this for j in select.args.get("joins") or []]
    return sources


# ----------------------------------------------------------------------------- lists
def _array_aliases(tree: exp.Expr, hints: TypeHints) -> set[str]:
    """Names of aliases (anywhere in the statement) bound to list-valued expressions."""
    names: set[str] = set()
    while True:
        found = {
            a.alias.lower()
            for a in tree.find_all(exp.Alias)
            if a.alias and a.alias.lower() not in names and _is_array(a.this, names, hints)
        }
        if not found:
            return names
        names |= found


def _is_array(node: exp.Expr, arrays: set[str], hints: TypeHints) -> bool:
    if isinstance(node, _ARRAY_FUNCS):
        return True
    if isinstance(node, exp.Filter):
        return isinstance(node.this, exp.ArrayAgg)
    if isinstance(node, exp.Anonymous) and node.name.lower() in (
        "size",
        "transform",
        "collect_list",
    ):
        return node.name.lower() != "size"
    if isinstance(node, (exp.Coalesce, exp.Paren)):
        return any(_is_array(c, arrays, hints) for c in node.iter_expressions())
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs") or []] + [
            node.args.get("default")
        ]
        return any(b is not None and _is_array(b, arrays, hints) for b in branches)
    if isinstance(node, exp.If):
        return any(
            b is not None and _is_array(b, arrays, hints)
            for b in (node.args.get("true"), node.args.get("false"))
        )
    if isinstance(node, exp.Column):
        hint = hints.of(node.name)
        return node.name.lower() in arrays or bool(hint and hint.startswith("array"))
    return False


def _list_aggregate(node: exp.Expr, where: exp.Expr | None) -> exp.Expr:
    """DuckDB list/array_agg/string_agg with their ORDER BY, NULL elements and FILTER kept."""
    inner = node.this
    keys: list[exp.Ordered] = []
    if isinstance(inner, exp.Order):
        keys = [k for k in inner.expressions if isinstance(k, exp.Ordered)]
        inner = inner.this
    value = inner
    fields = [exp.alias_(value.copy(), "v")] + [
        exp.alias_(k.this.copy(), f"k{i}") for i, k in enumerate(keys)
    ]
    collected: exp.Expr = exp.Anonymous(
        this="collect_list", expressions=[exp.Struct(expressions=fields)]
    )
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    if keys:
        collected = exp.Anonymous(this="array_sort", expressions=[collected, _comparator(keys)])
    values = exp.Anonymous(this="transform", expressions=[
        collected, exp.Lambda(this=exp.Dot(this=exp.column("s"), expression=exp.to_identifier("v")),
                              expressions=[exp.to_identifier("s")])])  # fmt: skip
    result: exp.Expr = values
    if isinstance(node, exp.GroupConcat):
        sep = node.args.get("separator") or exp.Literal.string(",")
        result = exp.Anonymous(this="array_join", expressions=[values, sep])
        empty = exp.EQ(this=exp.Anonymous(this="size", expressions=[exp.Anonymous(this="filter", expressions=[
            values.copy(), exp.Lambda(this=exp.Not(this=exp.Is(this=exp.column("x"), expression=exp.Null())),
                                      expressions=[exp.to_identifier("x")])])]), expression=exp.Literal.number(0))  # fmt: skip
        return exp.Case(ifs=[exp.If(this=empty, true=exp.Null())], default=result)
    if where is not None:  # DuckDB: no row passed the filter -> NULL, not []
        count = exp.Filter(this=exp.Count(this=exp.Star()), expression=where.copy())
        return exp.Case(ifs=[exp.If(this=exp.EQ(this=count, expression=exp.Literal.number(0)), true=exp.Null())],
                        default=result)  # fmt: skip
    return result


def _comparator(keys: Iterable[exp.Ordered]) -> exp.Lambda:
    """(l, r) -> -1/0/1 over the sort keys, with DuckDB's defaults (ASC, NULLS LAST)."""
    ifs: list[exp.If] = []
    for i, key in enumerate(keys):
        left = exp.Dot(this=exp.column("l"), expression=exp.to_identifier(f"k{i}"))
        right = exp.Dot(this=exp.column("r"), expression=exp.to_identifier(f"k{i}"))
        desc = bool(key.args.get("desc"))
        nulls_first = bool(key.args.get("nulls_first"))
        first, last = (exp.Literal.number(-1), exp.Literal.number(1))
        null = exp.Null()
        ifs += [
            exp.If(this=exp.and_(exp.Is(this=left.copy(), expression=null.copy()),
                                 exp.Not(this=exp.Is(this=right.copy(), expression=null.copy()))),
                   true=first.copy() if nulls_first else last.copy()),
            exp.If(this=exp.and_(exp.Not(this=exp.Is(this=left.copy(), expression=null.copy())),
                                 exp.Is(this=right.copy(), expression=null.copy())),
                   true=last.copy() if nulls_first else first.copy()),
            exp.If(this=exp.LT(this=left.copy(), expression=right.copy()), true=last.copy() if desc else first.copy()),
            exp.If(this=exp.GT(this=left.copy(), expression=right.copy()), true=first.copy() if desc else last.copy()),
        ]  # fmt: skip
    body = exp.Case(ifs=ifs, default=exp.Literal.number(0))
    return exp.Lambda(this=body, expressions=[exp.to_identifier("l"), exp.to_identifier("r")])
