-- Expiry reminders already enqueued, one row per mandate and threshold. The reminder scan
-- inserts here first and writes notifications only for the rows it inserted, so a scan that
-- comes late (after an outage) still sends each reminder, and workers on several nodes
-- scanning at once send it once. It outlives the outbox rows, which are deleted after a while.
CREATE TABLE mandate_reminders (
  mandate_id uuid NOT NULL REFERENCES mandates (id),
  days integer NOT NULL CHECK (days > 0),
  enqueued_at timestamptz NOT NULL,
  PRIMARY KEY (mandate_id, days)
);

-- Reminders enqueued before this table existed are remembered, so none is sent again.
INSERT INTO mandate_reminders (mandate_id, days, enqueued_at)
SELECT (data ->> 'mandateId')::uuid, (data ->> 'days')::int, min(created_at)
FROM notifications
WHERE kind = 'mandate.expiring'
GROUP BY 1, 2;

-- Retention reads delivered and given-up rows by when they were finished with: a delivered row
-- by its delivery, a given-up one by its last attempt.
CREATE INDEX notifications_finished ON notifications ((coalesce(sent_at, next_attempt_at)))
  WHERE state <> 'pending';
