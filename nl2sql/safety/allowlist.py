"""What L1 of the guard allows: expression node types and functions (by the name DuckDB sees).

Both lists fail closed: a node type or function that is not here is refused, so whatever
DuckDB or sqlglot add in a future release is refused until someone reviews it.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import SqlglotError

# Expression node types a read-only query may contain. Anything else is refused.
_NODE_NAMES = """
Select Union Except Intersect Subquery With CTE From Join Where Group Having Qualify Order Ordered
Limit Offset Fetch Distinct Column Identifier Table TableAlias Alias Star Literal Boolean Null Paren
And Or Not Xor EQ NEQ NullSafeEQ NullSafeNEQ GT GTE LT LTE Is In Between Like ILike SimilarTo
RegexpLike RegexpILike Glob Add Sub Mul Div IntDiv Mod Pow Neg BitwiseAnd BitwiseOr BitwiseXor
BitwiseNot BitwiseLeftShift BitwiseRightShift Case If Cast TryCast DataType DataTypeParam Interval
Var Exists Window WindowSpec Filter Bracket Array Tuple Struct PropertyEQ Slice Dot DPipe Collate
Values Lambda Kwarg Escape Any All Unnest Lateral ArrayContains ArrayContainsAll
ArrayOverlaps JSONExtract JSONExtractScalar JSONBExtract JSONPath JSONPathKey JSONPathRoot
JSONPathSubscript JSONPathWildcard WithinGroup Distance Cube Rollup GroupingSets Concat IgnoreNulls
RespectNulls HavingMax Pivot PivotAlias ToNumber Columns TimeUnit Extract AtTimeZone
""".split()
ALLOWED_NODES: frozenset[type[exp.Expr]] = frozenset(
    getattr(exp, n) for n in _NODE_NAMES if isinstance(getattr(exp, n, None), type)
)

# Functions (by DuckDB name, lower case) a query may call: values in, values out. No table
# functions, nothing that reads files, settings, variables or the environment.
ALLOWED_FUNCTIONS = frozenset("""
abs acos asin atan atan2 cbrt ceil ceiling cos cot degrees exp floor gamma greatest least ln log
log10 log2 pi pow power radians random round sign sin sqrt tan trunc even factorial gcd lcm isnan
isinf isfinite mod bit_count xor nextafter avg mean count count_star sum min max median mode
quantile quantile_cont quantile_disc percentile_cont percentile_disc approx_count_distinct
approx_quantile stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp
first last any_value arg_max arg_min argmax argmin max_by min_by bool_and bool_or bit_and bit_or
bit_xor string_agg group_concat listagg list array_agg histogram product sum_no_overflow favg fsum
kurtosis skewness entropy regr_slope regr_intercept regr_r2 regr_count regr_avgx regr_avgy countif
count_if sumif geomean geometric_mean avgif row_number rank dense_rank percent_rank cume_dist ntile
lag lead first_value last_value nth_value coalesce ifnull nullif if iff case isnull notnull concat
concat_ws length len char_length character_length lower upper lcase ucase trim ltrim rtrim substring
substr left right replace reverse repeat lpad rpad position strpos instr contains starts_with
ends_with prefix suffix split_part string_split str_split regexp_matches regexp_replace
regexp_extract regexp_extract_all regexp_full_match regexp_split_to_array like ilike not_like
not_ilike glob ascii chr unicode ord initcap md5 hash sha256 format printf strip_accents levenshtein
damerau_levenshtein jaccard jaro_similarity jaro_winkler_similarity hamming mismatches editdist3
translate array_to_string list_aggregate string_to_array split to_json json_extract
json_extract_string json_extract_path json_extract_path_text json_value json_array_length json_keys
json_type json_valid json_object json_array json_structure date_trunc datetrunc date_part datepart
date_diff datediff date_sub date_add extract year month day quarter week weekofyear weekday
dayofweek isodow dayofyear dayofmonth yearweek isoyear era hour minute second millisecond
microsecond epoch epoch_ms epoch_us epoch_ns dayname monthname last_day make_date make_time
make_timestamp make_timestamptz strftime strptime try_strptime to_timestamp to_date current_date
today now current_timestamp get_current_timestamp get_current_time current_time age time_bucket
date_format to_days to_months to_years to_hours to_minutes to_seconds to_weeks to_milliseconds
to_microseconds to_centuries to_decades to_millennia timezone century decade millennium julian cast
try_cast typeof list_value list_extract list_element array_extract list_contains list_has
array_contains list_position list_sort list_reverse_sort list_distinct list_unique list_count
list_sum list_min list_max list_avg list_slice array_slice array_length list_concat array_concat
list_filter list_transform list_apply array_filter array_transform array_apply unnest flatten
list_zip array_value array_has array_position array_distinct len struct_pack struct_extract row map
map_extract element_at cardinality generate_series range grouping grouping_id nullif_zero zeroifnull
timestamp_trunc time_to_str unix_to_time str_to_time explode str_to_date date_to_str
ts_or_ds_to_date ts_or_ds_add date_str_to_date time_str_to_time time_str_to_date unix_to_str
time_to_unix array_size array_join array_sort array_any array_all string_to_array array_unique_agg
count_distinct approx_distinct variance_pop stddev_pop safe_divide std_dev
""".split())

# sqlglot names some functions by its own canonical name (TIME_TO_STR for strftime, ...);
# the allow-list above holds both spellings of the functions it allows.
_FUNC_ALIASES = {"arrayagg": "array_agg", "groupconcat": "string_agg"}


_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\(")


def function_name(node: exp.Func) -> str:
    """The name DuckDB sees: sqlglot renames some functions (make_date parses as DATE_FROM_PARTS),
    so a call is judged by how it reads in DuckDB's dialect, and by sqlglot's name otherwise."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    name = node.sql_name().lower()
    try:
        call = _CALL.match(node.sql(dialect="duckdb"))
    except SqlglotError:
        call = None
    if call is not None:
        return call.group(1).lower()
    return _FUNC_ALIASES.get(name, name)
