// Commands named as the AWS SDK's, for services whose SDK clients the simulator does not depend
// on (FIS, CloudWatch): the simulated clients read the operation from the class name.

type Input = Record<string, unknown>;

/** A command class named `op` (e.g. `StartExperimentCommand`) carrying its input. */
export const sdkCommand = (op: string) =>
  ({
    [op]: class {
      constructor(readonly input: Input) {}
    },
  })[op] as new (input: Input) => { input: Input };

export const CreateExperimentTemplateCommand = sdkCommand('CreateExperimentTemplateCommand');
export const GetExperimentTemplateCommand = sdkCommand('GetExperimentTemplateCommand');
export const StartExperimentCommand = sdkCommand('StartExperimentCommand');
export const GetExperimentCommand = sdkCommand('GetExperimentCommand');
export const StopExperimentCommand = sdkCommand('StopExperimentCommand');
export const ListExperimentsCommand = sdkCommand('ListExperimentsCommand');
export const PutMetricAlarmCommand = sdkCommand('PutMetricAlarmCommand');
export const DescribeAlarmsCommand = sdkCommand('DescribeAlarmsCommand');
export const SetAlarmStateCommand = sdkCommand('SetAlarmStateCommand');
export const DeleteAlarmsCommand = sdkCommand('DeleteAlarmsCommand');
