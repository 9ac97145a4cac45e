-- ForecastLab: the account's sales per day, a third rollup beside those per store and per product,
-- so the unfiltered KPIs and timeseries of a year read 365 rows instead of 36,500. Kept by the
-- same statement triggers (sql/functions/forecastlab_rollups.sql); filled here from the store rollup.
create table forecast.sales_by_day (
  account_id   uuid not null,
  date         date not null,
  revenue      numeric(16, 2) not null,
  units        bigint not null,
  transactions bigint not null,
  primary key (account_id, date)
);
alter table forecast.sales_by_day enable row level security, force row level security;
grant select on forecast.sales_by_day to authenticated, service_role;
grant select, insert, update, delete on forecast.sales_by_day to forecast_system;

insert into forecast.sales_by_day (account_id, date, revenue, units, transactions)
select account_id, date, sum(revenue), sum(units), sum(transactions) from forecast.sales_by_store_day group by account_id, date;
