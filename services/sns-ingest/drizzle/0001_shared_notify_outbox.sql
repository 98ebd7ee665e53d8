-- Entries still waiting (Redis was down) move to the shared outbox, which the core migrations created.
INSERT INTO "public"."notify_outbox" ("media_id", "kind", "job_id", "created_at")
SELECT "media_id", "kind", "job_id", "created_at" FROM "sns_ingest"."notify_outbox" ORDER BY "id";--> statement-breakpoint
DROP TABLE "sns_ingest"."notify_outbox" CASCADE;
