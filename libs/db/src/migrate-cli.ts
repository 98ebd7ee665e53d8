// `npm run migrate -w @mp/db`: applies the core migrations once (compose runs it before the services).
import { runMigrations } from './migrate';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('config: DATABASE_URL is required: a postgres:// URL');
  process.exit(1);
}
await runMigrations(url);
