-- Queue tables churn (rows leased, updated, completed; hit counters upserted per request): on a
-- server where autovacuum is on, its default trigger (20 % of the table dead) lets a large queue
-- pile up hundreds of thousands of dead tuples before a VACUUM. Vacuum them after every ~1000
-- dead tuples whatever their size. The service also VACUUMs them itself (vacuum_interval_s), which
-- covers servers running with autovacuum off; these settings are what remains when it is disabled.
ALTER TABLE inbound_queue SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
ALTER TABLE runtime_state SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
