import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, lt, or, isNull, sql } from 'drizzle-orm';
import type { TranscoderDb } from './db/client';
import { deliveries, messages, signingIdentity, subscriptions } from './db/schema';

export type DeliveryRow = typeof deliveries.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;
export type SubscriptionRow = typeof subscriptions.$inferSelect;

export class DeliveriesRepository {
  constructor(private readonly db: TranscoderDb) {}

  async get(id: string): Promise<{ delivery: DeliveryRow; message: MessageRow } | undefined> {
    const [row] = await this.db
      .select({ delivery: deliveries, message: messages })
      .from(deliveries)
      .innerJoin(messages, eq(messages.id, deliveries.messageId))
      .where(eq(deliveries.id, id));
    return row;
  }

  async attempted(id: string, error: string | null): Promise<void> {
    await this.db
      .update(deliveries)
      .set({ attempts: sql`${deliveries.attempts} + 1`, lastError: error })
      .where(eq(deliveries.id, id));
  }

  async delivered(id: string, snsMessageId?: string): Promise<void> {
    await this.db
      .update(deliveries)
      .set({ status: 'delivered', deliveredAt: new Date(), snsMessageId: snsMessageId ?? null, lastError: null })
      .where(and(eq(deliveries.id, id), eq(deliveries.status, 'pending')));
  }

  async failed(id: string, error: string): Promise<void> {
    await this.db
      .update(deliveries)
      .set({ status: 'failed', lastError: error })
      .where(and(eq(deliveries.id, id), eq(deliveries.status, 'pending')));
  }

  /** Pending deliveries old enough that their queue entry should have run. */
  async stale(olderThanMs: number, limit = 500): Promise<string[]> {
    const rows = await this.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.status, 'pending'),
          lt(deliveries.createdAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`),
        ),
      )
      .orderBy(asc(deliveries.createdAt))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  forMessage(messageId: string): Promise<DeliveryRow[]> {
    return this.db.select().from(deliveries).where(eq(deliveries.messageId, messageId));
  }

  /** The subscription of a URL to a topic, created (pending) on first use. */
  async subscription(topicArn: string, endpoint: string): Promise<SubscriptionRow> {
    await this.db
      .insert(subscriptions)
      .values({
        arn: `${topicArn}:${randomUUID()}`,
        topicArn,
        endpoint,
        token: randomBytes(64).toString('hex'),
        confirmationMessageId: randomUUID(),
      })
      .onConflictDoNothing();
    const [row] = await this.db
      .select()
      .from(subscriptions)
      .where(and(eq(subscriptions.topicArn, topicArn), eq(subscriptions.endpoint, endpoint)));
    return row!;
  }

  /** True for the one caller that should send the confirmation now (first time, or a minute after the last). */
  async takeConfirmationTurn(arn: string, everyMs: number): Promise<boolean> {
    const rows = await this.db
      .update(subscriptions)
      .set({ confirmationSentAt: sql`now()` })
      .where(
        and(
          eq(subscriptions.arn, arn),
          eq(subscriptions.status, 'pending'),
          or(
            isNull(subscriptions.confirmationSentAt),
            lt(subscriptions.confirmationSentAt, sql`now() - make_interval(secs => ${everyMs / 1000})`),
          ),
        ),
      )
      .returning({ arn: subscriptions.arn });
    return rows.length > 0;
  }

  async subscriptionByArn(arn: string): Promise<SubscriptionRow | undefined> {
    const [row] = await this.db.select().from(subscriptions).where(eq(subscriptions.arn, arn));
    return row;
  }

  /** ConfirmSubscription: the token proves the subscriber received the confirmation message. */
  async confirm(topicArn: string, token: string): Promise<SubscriptionRow | undefined> {
    const [row] = await this.db
      .update(subscriptions)
      .set({ status: 'confirmed', confirmedAt: sql`coalesce(${subscriptions.confirmedAt}, now())` })
      .where(and(eq(subscriptions.topicArn, topicArn), eq(subscriptions.token, token)))
      .returning();
    return row;
  }

  async unsubscribe(arn: string): Promise<SubscriptionRow | undefined> {
    const [row] = await this.db
      .update(subscriptions)
      .set({ status: 'unsubscribed' })
      .where(eq(subscriptions.arn, arn))
      .returning();
    return row;
  }
}

export class SigningIdentityRepository {
  constructor(private readonly db: TranscoderDb) {}

  async get(): Promise<{ privateKeyPem: string; certificatePem: string } | undefined> {
    const [row] = await this.db.select().from(signingIdentity).where(eq(signingIdentity.id, 1));
    return row;
  }

  /** Stores a new identity unless another replica stored one first; returns the one that won. */
  async putIfAbsent(identity: { privateKeyPem: string; certificatePem: string }) {
    await this.db
      .insert(signingIdentity)
      .values({ id: 1, ...identity })
      .onConflictDoNothing();
    return (await this.get())!;
  }
}
