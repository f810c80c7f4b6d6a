/** Why IAM refused a request: the first check that was not allowed. */
export interface IamDenial {
  readonly action: string;
  readonly resource: string;
  /** An explicit `Deny` matched (else nothing allowed it). */
  readonly explicit: boolean;
  /** Set when the denied check is one another service makes on the caller's behalf (EC2 using KMS). */
  readonly onBehalfOf?: 'kms';
}

/** One request to an IAM evaluator: does this principal's set of identity policies allow this action on this resource? */
export interface IamEvaluationRequest {
  readonly principalArn: string;
  readonly accountId: string;
  /** `service:Action`. */
  readonly action: string;
  /** A resource ARN, or `*`. */
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /** The principal's identity policies; `key` identifies the set for memoisation (it changes whenever a document does). */
  readonly policies: { readonly key: string; readonly documents: readonly { readonly name: string; readonly document: unknown }[] };
  /** The resource's own policy (an SQS queue policy), when AWS evaluates one for this request. */
  readonly resourcePolicy?: unknown;
}

export type IamDecision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/**
 * Evaluates identity policies the way AWS does. Synchronous when it already knows the answer
 * (memoised), a promise otherwise.
 */
export interface IamEvaluator {
  evaluate(request: IamEvaluationRequest): IamDecision | Promise<IamDecision>;
}
