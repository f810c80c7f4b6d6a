export { runAwsCli } from './run-aws-cli.js';
export type { AwsCliResult, RunAwsCliOptions } from './run-aws-cli.js';
export { handleCliRequest } from './handle-cli-request.js';
export type { CliRequestBody } from './handle-cli-request.js';
export type { AwsCliInvoke, AwsCliInvokeRequest } from './call-service.js';
export type { ErrorMessageStyle } from './cli-failure.js';
export { OPERATIONS, SERVICES } from './operations.js';
export type { CliServiceName, OperationSpec, PaginatorSpec, ServiceSpec } from './operations.js';
