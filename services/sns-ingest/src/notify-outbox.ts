// The notify outbox is shared by every producer of notify; it lives in @mp/db.
export { NotifyOutbox } from '@mp/db';
