-- The days MetricFlow joins metrics to (its time spine): one row per day, 2020 through 2035.
-- A fixed range, not read from the data: cheap to build and never out of date within it.
select cast(day as date) as date_day
from range(date '2020-01-01', date '2036-01-01', interval 1 day) as t(day)
