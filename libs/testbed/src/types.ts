export interface TestbedInfo {
  adminDatabaseUrl: string;
  /** Migrated template database that each test file copies. */
  template: string;
  redisUrl: string;
  s3: {
    endpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    kind: 's3rver' | 'localstack' | 'external';
  };
  infra: 'containers' | 'local';
}
