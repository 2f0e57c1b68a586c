{#- Crisis episodes: runs of consecutive anomalous days of fct_negative_mentions_daily, with
    their peak, size, baseline, the brand's first response and the recovery. A table rebuilt
    whole on every run: an episode can span any number of days and its end, peak and recovery
    move as new days arrive, so no window of days can be rebuilt alone (and episodes are few).
    Rebuilt whole, it stays cheap: the episodes come from the daily series (one row a day), and
    the texts are read only for the response times, joined to the brand's replies by key (the
    comment answered, the conversation) rather than by platform alone, which compared every
    negative text of a crisis with every brand text after it (14 s at SF10 for a year; 0.2 s by
    key, the same rows). -#}

with

days as (
    select * from {{ ref('fct_negative_mentions_daily') }}
),

anomalous_days as (
    select
        date_day,
        negative_mentions,
        row_number() over (order by date_day) as day_number
    from days
    where is_anomalous
),

-- consecutive days share date_day - day_number (gaps and islands)
islands as (
    select
        date_day,
        negative_mentions,
        cast({{ dbt.dateadd('day', '-day_number', 'date_day') }} as date) as island_key
    from anomalous_days
),

episode_spans as (
    select
        island_key,
        min(date_day) as start_date,
        max(date_day) as end_date,
        count(*) as anomalous_days,
        sum(negative_mentions) as total_negative_mentions
    from islands
    group by island_key
),

last_day as (
    select max(date_day) as last_date_day from days
),

-- the peak: the day with the most negatives, the earlier on a tie
episode_peaks as (
    select
        island_key,
        date_day as peak_date,
        negative_mentions as peak_negative_mentions
    from (
        select
            islands.*,
            row_number() over (partition by island_key order by negative_mentions desc, date_day) as peak_rank
        from islands
    ) as ranked
    where peak_rank = 1
),

episodes as (
    select
        episode_spans.start_date,
        episode_spans.end_date,
        episode_peaks.peak_date,
        episode_spans.anomalous_days,
        episode_peaks.peak_negative_mentions,
        episode_spans.total_negative_mentions,
        start_days.baseline_negative_mentions,
        start_days.threshold_negative_mentions,
        start_days.first_negative_at as started_at
    from episode_spans
    inner join episode_peaks
        on episode_spans.island_key = episode_peaks.island_key
    inner join days as start_days
        on episode_spans.start_date = start_days.date_day
),

-- recovery: the first day after the peak back at or under the threshold in force at the start
recoveries as (
    select
        episodes.start_date,
        min(days.date_day) as recovered_date
    from episodes
    inner join days
        on days.date_day > episodes.peak_date
        and days.negative_mentions <= episodes.threshold_negative_mentions
    group by episodes.start_date
),

-- the texts from the first crisis on (none read when there is no crisis)
texts as (
    select * from {{ ref('int_texts_scored') }}
    where occurred_date >= (select min(start_date) from episode_spans)
),

-- the negative texts others wrote to the brand's own channels during the episode
episode_negative_texts as (
    select
        episodes.start_date,
        texts.platform,
        texts.text_id,
        texts.conversation_id,
        texts.occurred_at
    from episodes
    inner join texts
        on texts.occurred_at >= episodes.started_at
        and texts.occurred_date <= episodes.end_date
    where texts.sentiment_label = 'negative'
      and texts.text_kind in ('comment', 'message')
      and texts.author_type not in ('brand', 'competitor')
),

brand_texts as (
    select * from texts
    where author_type = 'brand'
),

-- a brand reply: a comment answering one of those texts, or a message after one in its
-- conversation (two joins on a key each: one with an `or` could only pair rows by platform)
replies as (
    select
        episode_negative_texts.start_date,
        brand_texts.occurred_at
    from episode_negative_texts
    inner join brand_texts
        on brand_texts.parent_id = episode_negative_texts.text_id
        and brand_texts.platform = episode_negative_texts.platform
        and brand_texts.occurred_at >= episode_negative_texts.occurred_at

    union all

    select
        episode_negative_texts.start_date,
        brand_texts.occurred_at
    from episode_negative_texts
    inner join brand_texts
        on brand_texts.conversation_id = episode_negative_texts.conversation_id
        and brand_texts.platform = episode_negative_texts.platform
        and brand_texts.occurred_at >= episode_negative_texts.occurred_at
),

first_replies as (
    select
        start_date,
        min(occurred_at) as first_reply_at
    from replies
    group by start_date
),

-- a brand post: the brand's own account in the listening tool or X search, during the episode
first_posts as (
    select
        episodes.start_date,
        min(brand_texts.occurred_at) as first_post_at
    from episodes
    inner join brand_texts
        on brand_texts.occurred_at >= episodes.started_at
        and brand_texts.occurred_date <= episodes.end_date
    where brand_texts.text_kind = 'mention'
    group by episodes.start_date
),

responses as (
    select
        episodes.start_date,
        first_replies.first_reply_at,
        first_posts.first_post_at,
        case
            when first_posts.first_post_at is null then first_replies.first_reply_at
            when first_replies.first_reply_at is null then first_posts.first_post_at
            when first_posts.first_post_at < first_replies.first_reply_at then first_posts.first_post_at
            else first_replies.first_reply_at
        end as first_response_at,
        case
            when first_posts.first_post_at is null and first_replies.first_reply_at is null then null
            when first_replies.first_reply_at is null then 'post'
            when first_posts.first_post_at is null then 'reply'
            when first_posts.first_post_at < first_replies.first_reply_at then 'post'
            else 'reply'
        end as first_response_kind
    from episodes
    left join first_replies
        on episodes.start_date = first_replies.start_date
    left join first_posts
        on episodes.start_date = first_posts.start_date
),

final as (
    select
        -- keys
        'crisis_' || cast(episodes.start_date as {{ dbt.type_string() }}) as crisis_id,

        -- attributes
        'brand' as subject,

        -- days (reporting time zone)
        episodes.start_date,
        episodes.peak_date,
        episodes.end_date,
        cast({{ dbt.datediff('episodes.start_date', 'episodes.end_date', 'day') }} + 1 as {{ dbt.type_bigint() }}) as duration_days,
        cast(episodes.anomalous_days as {{ dbt.type_bigint() }}) as anomalous_days,

        -- size
        cast(episodes.peak_negative_mentions as {{ dbt.type_bigint() }}) as peak_negative_mentions,
        cast(episodes.total_negative_mentions as {{ dbt.type_bigint() }}) as total_negative_mentions,
        cast(episodes.baseline_negative_mentions as double) as baseline_negative_mentions,
        cast(episodes.threshold_negative_mentions as double) as threshold_negative_mentions,
        cast(episodes.total_negative_mentions
             - episodes.anomalous_days * episodes.baseline_negative_mentions as double) as excess_negative_mentions,
        {{ safe_divide('episodes.peak_negative_mentions', 'episodes.baseline_negative_mentions') }} as peak_to_baseline_ratio,

        -- the brand's response (UTC)
        episodes.started_at,
        responses.first_reply_at,
        responses.first_post_at,
        responses.first_response_at,
        responses.first_response_kind,
        cast({{ dbt.datediff('episodes.started_at', 'responses.first_reply_at', 'second') }} / 60.0 as double) as minutes_to_first_reply,
        cast({{ dbt.datediff('episodes.started_at', 'responses.first_response_at', 'second') }} / 60.0 as double) as minutes_to_first_response,

        -- recovery
        recoveries.recovered_date,
        recoveries.recovered_date is not null as is_recovered,
        episodes.end_date = last_day.last_date_day as is_ongoing,
        cast({{ dbt.datediff('episodes.peak_date', 'recoveries.recovered_date', 'day') }} as {{ dbt.type_bigint() }}) as days_to_recover
    from episodes
    left join responses
        on episodes.start_date = responses.start_date
    left join recoveries
        on episodes.start_date = recoveries.start_date
    cross join last_day
)

select * from final
