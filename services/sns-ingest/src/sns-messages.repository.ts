import { eq } from 'drizzle-orm';
import { snsMessages, type Db, type DbTransaction } from '@mp/db';
import type { SnsEnvelope } from '@mp/contracts';

/** The SNS messages already handled, by MessageId (SNS keeps it across redeliveries). */
export class SnsMessagesRepository {
  constructor(private readonly db: Db | DbTransaction) {}

  async seen(messageId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: snsMessages.messageId })
      .from(snsMessages)
      .where(eq(snsMessages.messageId, messageId));
    return row !== undefined;
  }

  /** Records a message; false when it was already recorded (a redelivery). */
  async record(envelope: Pick<SnsEnvelope, 'MessageId' | 'TopicArn' | 'Type'>): Promise<boolean> {
    const rows = await this.db
      .insert(snsMessages)
      .values({ messageId: envelope.MessageId, topicArn: envelope.TopicArn, type: envelope.Type })
      .onConflictDoNothing({ target: snsMessages.messageId })
      .returning({ id: snsMessages.messageId });
    return rows.length > 0;
  }
}
