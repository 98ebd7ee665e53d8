CREATE SCHEMA "sns_ingest";
--> statement-breakpoint
CREATE TABLE "sns_ingest"."notify_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"media_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"job_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
