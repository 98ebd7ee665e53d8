CREATE TABLE "media_tombstones" (
	"media_id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"kind" "media_kind" NOT NULL,
	"pipeline_id" text,
	"engine_job_id" text,
	"engine_call_since" timestamp with time zone,
	"deleted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"due_at" timestamp with time zone DEFAULT now() NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"purged_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "notify_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"media_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"job_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "media_tombstones_due_idx" ON "media_tombstones" USING btree ("due_at") WHERE "media_tombstones"."purged_at" is null;--> statement-breakpoint
CREATE INDEX "notify_outbox_created_idx" ON "notify_outbox" USING btree ("created_at");