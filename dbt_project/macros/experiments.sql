{#- Statistics for the A/B test mart (fct_ab_test_results) and the URL helper of the partner
    marts, behind adapter dispatch like macros/portable.sql: neither DuckDB nor Spark SQL has an
    error function or a normal quantile, so the `default__` versions compute them with
    published approximations in plain arithmetic (exp, ln, sqrt, abs: the same on both
    engines); the `spark__` versions are the same formulas, kept apart so an engine with a
    native function (PostgreSQL 16's erfc, say) can use it instead. Arguments are SQL
    expressions; pass a column rather than a long expression (each is repeated several times
    in the result). -#}


{#- The complementary error function erfc(x) = 1 - erf(x), by the Chebyshev fit of Numerical
    Recipes (2nd ed., 6.2, `erfcc`): fractional error below 1.2e-7 for every x, so even a tiny
    tail probability keeps 6-7 significant digits (an absolute-error fit such as
    Abramowitz-Stegun 7.1.26, |error| <= 1.5e-7, would round p-values under 1e-7 to nothing).
    erfc(-x) = 2 - erfc(x). Null in, null out. -#}
{% macro erfc(x) -%}
    {{ return(adapter.dispatch('erfc', 'social_kpi_warehouse')(x)) }}
{%- endmacro %}

{% macro _erfc_chebyshev(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * abs(' ~ x ~ ')))' -%}
    (case when {{ x }} is null then null else
        (case when {{ x }} >= 0 then 0.0 else 2.0 end)
        + (case when {{ x }} >= 0 then 1.0 else -1.0 end)
        * {{ t }} * exp(-({{ x }}) * ({{ x }}) - 1.26551223 + {{ t }} * (1.00002368 + {{ t }} * (0.37409196
            + {{ t }} * (0.09678418 + {{ t }} * (-0.18628806 + {{ t }} * (0.27886807 + {{ t }} * (-1.13520398
            + {{ t }} * (1.48851587 + {{ t }} * (-0.82215223 + {{ t }} * 0.17087277)))))))))
    end)
{%- endmacro %}

{% macro default__erfc(x) -%}
    {{ _erfc_chebyshev(x) }}
{%- endmacro %}

{% macro spark__erfc(x) -%}
    {{ _erfc_chebyshev(x) }}
{%- endmacro %}


{#- The standard normal CDF, Phi(z) = erfc(-z / sqrt(2)) / 2 (fractional error below 1.2e-7,
    from `erfc`). For a two-sided p-value use `normal_two_sided_p`: computing 1 - Phi(z) for a
    large z cancels the digits the fit keeps. -#}
{% macro normal_cdf(z) -%}
    (0.5 * {{ erfc('(-(' ~ z ~ ') / sqrt(2.0))') }})
{%- endmacro %}


{#- The two-sided p-value of a standard normal statistic z: P(|Z| >= |z|) = erfc(|z| / sqrt(2)),
    in [0, 1] (the fit reaches 1 + 3e-8 at z = 0: capped); null when z is null (`least` alone
    would skip the null and give 1). -#}
{% macro normal_two_sided_p(z) -%}
    (case when {{ z }} is not null then least(1.0, {{ erfc('(abs(' ~ z ~ ') / sqrt(2.0))') }}) end)
{%- endmacro %}


{#- The standard normal quantile Phi^-1(p) for 0 < p < 1 (null otherwise), by P. J. Acklam's
    rational approximation (2003): relative error below 1.15e-9, three regions (lower tail
    p < 0.02425, central, upper tail), no refinement step. Used for z(1 - alpha/2) and
    z(power). -#}
{% macro normal_quantile(p) -%}
    {{ return(adapter.dispatch('normal_quantile', 'social_kpi_warehouse')(p)) }}
{%- endmacro %}

{% macro _normal_quantile_acklam(p) -%}
    {%- set q_low = 'sqrt(-2.0 * ln(least(greatest(' ~ p ~ ', 1e-300), 1.0)))' -%}
    {%- set q_high = 'sqrt(-2.0 * ln(least(greatest(1.0 - (' ~ p ~ '), 1e-300), 1.0)))' -%}
    {%- set q = '((' ~ p ~ ') - 0.5)' -%}
    {%- set r = '(' ~ q ~ ' * ' ~ q ~ ')' -%}
    (case
        when {{ p }} is null or {{ p }} <= 0 or {{ p }} >= 1 then null
        when {{ p }} < 0.02425 then
            (((((-7.784894002430293e-03 * {{ q_low }} - 3.223964580411365e-01) * {{ q_low }} - 2.400758277161838e+00) * {{ q_low }}
                - 2.549732539343734e+00) * {{ q_low }} + 4.374664141464968e+00) * {{ q_low }} + 2.938163982698783e+00)
            / ((((7.784695709041462e-03 * {{ q_low }} + 3.224671290700398e-01) * {{ q_low }} + 2.445134137142996e+00) * {{ q_low }}
                + 3.754408661907416e+00) * {{ q_low }} + 1.0)
        when {{ p }} > 1 - 0.02425 then
            -(((((-7.784894002430293e-03 * {{ q_high }} - 3.223964580411365e-01) * {{ q_high }} - 2.400758277161838e+00) * {{ q_high }}
                - 2.549732539343734e+00) * {{ q_high }} + 4.374664141464968e+00) * {{ q_high }} + 2.938163982698783e+00)
            / ((((7.784695709041462e-03 * {{ q_high }} + 3.224671290700398e-01) * {{ q_high }} + 2.445134137142996e+00) * {{ q_high }}
                + 3.754408661907416e+00) * {{ q_high }} + 1.0)
        else
            (((((-3.969683028665376e+01 * {{ r }} + 2.209460984245205e+02) * {{ r }} - 2.759285104469687e+02) * {{ r }}
                + 1.383577518672690e+02) * {{ r }} - 3.066479806614716e+01) * {{ r }} + 2.506628277459239e+00) * {{ q }}
            / (((((-5.447609879822406e+01 * {{ r }} + 1.615858368580409e+02) * {{ r }} - 1.556989798598866e+02) * {{ r }}
                + 6.680131188771972e+01) * {{ r }} - 1.328068155288572e+01) * {{ r }} + 1.0)
    end)
{%- endmacro %}

{% macro default__normal_quantile(p) -%}
    {{ _normal_quantile_acklam(p) }}
{%- endmacro %}

{% macro spark__normal_quantile(p) -%}
    {{ _normal_quantile_acklam(p) }}
{%- endmacro %}


{#- The value of one query parameter (`utm_campaign`, ...) in the first URL of a text that holds
    it (a URL, or a JSON array of links); null when absent or empty. Not URL-decoded: UTM values
    are plain slugs. DuckDB's and Spark's `regexp_extract(text, pattern, group)` agree (both
    give '' for no match); dispatched all the same, as every engine-specific function here. -#}
{% macro url_query_param(text, name) -%}
    {{ return(adapter.dispatch('url_query_param', 'social_kpi_warehouse')(text, name)) }}
{%- endmacro %}

{% macro default__url_query_param(text, name) -%}
    nullif(regexp_extract({{ text }}, '[?&]{{ name }}=([^&"# ]*)', 1), '')
{%- endmacro %}

{% macro spark__url_query_param(text, name) -%}
    nullif(regexp_extract({{ text }}, '[?&]{{ name }}=([^&"# ]*)', 1), '')
{%- endmacro %}

