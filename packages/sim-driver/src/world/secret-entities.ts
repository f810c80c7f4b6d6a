/** A parameter of the simulated SSM Parameter Store (SSM-2): every version is kept. */
export interface SimParameter {
  readonly name: string;
  readonly type: 'String' | 'SecureString' | 'StringList';
  /** The key a SecureString is encrypted with: `alias/aws/ssm` (the default) or a customer key ARN. */
  keyId: string | null;
  readonly versions: { readonly version: number; readonly value: string; readonly atMs: number }[];
}

/** A bucket of the simulated S3 (S3-2): objects by key, every version kept when versioning is on. */
export interface SimBucket {
  readonly name: string;
  readonly versioned: boolean;
  readonly objects: Map<string, { readonly versionId: string; readonly body: Uint8Array; readonly atMs: number }[]>;
}
