CREATE SCHEMA "transcoder";
--> statement-breakpoint
CREATE TABLE "transcoder"."deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_id" uuid NOT NULL,
	"target" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"sns_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "transcoder"."job_outputs" (
	"job_id" text NOT NULL,
	"output_id" text NOT NULL,
	"position" integer NOT NULL,
	"spec" jsonb NOT NULL,
	"key" text NOT NULL,
	"preset_id" text NOT NULL,
	"status" text DEFAULT 'Submitted' NOT NULL,
	"status_detail" text,
	"error_code" integer,
	"duration" bigint,
	"duration_millis" bigint,
	"width" integer,
	"height" integer,
	"file_size" bigint,
	"frame_rate" text,
	"thumbnail_keys" jsonb,
	CONSTRAINT "job_outputs_job_id_output_id_pk" PRIMARY KEY("job_id","output_id")
);
--> statement-breakpoint
CREATE TABLE "transcoder"."jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"pipeline_id" text NOT NULL,
	"status" text DEFAULT 'Submitted' NOT NULL,
	"input" jsonb NOT NULL,
	"output_key_prefix" text,
	"user_metadata" jsonb,
	"detected" jsonb,
	"progress" integer,
	"error_code" integer,
	"error_detail" text,
	"submit_time_millis" bigint NOT NULL,
	"start_time_millis" bigint,
	"finish_time_millis" bigint,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transcoder"."messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"state" text NOT NULL,
	"topic_arn" text NOT NULL,
	"subject" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transcoder"."pipelines" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text DEFAULT 'Active' NOT NULL,
	"input_bucket" text NOT NULL,
	"output_bucket" text,
	"role" text NOT NULL,
	"aws_kms_key_arn" text,
	"notifications" jsonb NOT NULL,
	"content_config" jsonb NOT NULL,
	"thumbnail_config" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transcoder"."presets" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"container" text NOT NULL,
	"audio" jsonb,
	"video" jsonb,
	"thumbnails" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transcoder"."signing_identity" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"private_key_pem" text NOT NULL,
	"certificate_pem" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "transcoder"."subscriptions" (
	"arn" text PRIMARY KEY NOT NULL,
	"topic_arn" text NOT NULL,
	"endpoint" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"token" text NOT NULL,
	"confirmation_message_id" uuid NOT NULL,
	"confirmation_sent_at" timestamp with time zone,
	"confirmed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "transcoder"."deliveries" ADD CONSTRAINT "deliveries_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "transcoder"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transcoder"."job_outputs" ADD CONSTRAINT "job_outputs_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "transcoder"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deliveries_pending_idx" ON "transcoder"."deliveries" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "jobs_pipeline_idx" ON "transcoder"."jobs" USING btree ("pipeline_id","id");--> statement-breakpoint
CREATE INDEX "jobs_status_idx" ON "transcoder"."jobs" USING btree ("status","id");--> statement-breakpoint
CREATE INDEX "messages_job_idx" ON "transcoder"."messages" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_topic_endpoint" ON "transcoder"."subscriptions" USING btree ("topic_arn","endpoint");--> statement-breakpoint
CREATE UNIQUE INDEX "subscriptions_token" ON "transcoder"."subscriptions" USING btree ("token");