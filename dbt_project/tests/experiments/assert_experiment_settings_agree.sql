{#- Every experiment has exactly one control, and its variants agree on the experiment's
    settings (dates, primary metric, alpha, power, minimum detectable lift): the test compares
    each treatment with that control over those dates. Fails with a row per experiment that
    does not. -#}

select
    experiment_id,
    sum(case when is_control then 1 else 0 end) as controls,
    count(distinct start_date) as start_dates,
    count(distinct end_date) as end_dates,
    count(distinct primary_metric) as primary_metrics,
    count(distinct alpha) as alphas,
    count(distinct power) as powers,
    count(distinct coalesce(min_detectable_lift, -1)) as min_detectable_lifts
from {{ ref('stg_team_config__experiments') }}
group by experiment_id
having sum(case when is_control then 1 else 0 end) <> 1
    or count(distinct start_date) > 1
    or count(distinct end_date) > 1
    or count(distinct primary_metric) > 1
    or count(distinct alpha) > 1
    or count(distinct power) > 1
    or count(distinct coalesce(min_detectable_lift, -1)) > 1
