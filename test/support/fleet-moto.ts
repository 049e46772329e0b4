import { CreateTagsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { consistencyDocument } from '../../shared/backup/consistency-document.js';
import { Tag } from '../../shared/tags.js';

// What the fleet's end-to-end tests set up in moto's other accounts (test/e2e/fleet*-moto.test.ts): moto keeps
// each account's resources apart by the credentials a request is signed with. Call with moto's endpoint in the
// environment (useMotoEnvironment).

/** Credentials in `account`: what moto's STS hands out for a role there (moto evaluates no trust policy). */
export const motoCredentials = async (account: string): Promise<AwsCredentialIdentity> => {
  const { Credentials: c } = await new STSClient({ region: 'eu-west-1' }).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/e2e-setup`,
      RoleSessionName: 'e2e-setup',
    }),
  );
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
};

/** An instance in zone a of `region`, in `ec2`'s account: its id. */
export const runMotoInstance = async (ec2: EC2Client, region: string): Promise<string> => {
  const run = await ec2.send(
    new RunInstancesCommand({
      // Any id: moto does not check it against the (empty) catalogue.
      ImageId: 'ami-0a1b2c3d4e5f60718',
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.micro',
      Placement: { AvailabilityZone: `${region}a` },
    }),
  );
  return run.Instances![0]!.InstanceId!;
};

/**
 * In the account-region `as` signs for: steward's consistency document named `document`, as the hub stack (its
 * own account-region) and the spoke stack (every other) deploy it, and an instance tagged for the consistent
 * policy `policy`. Returns the instance's id.
 */
export const consistentMotoInstance = async (
  as: { region: string; credentials?: AwsCredentialIdentity },
  document: string,
  policy: string,
): Promise<string> => {
  await new SSMClient(as).send(
    new CreateDocumentCommand({
      Name: document,
      Content: JSON.stringify(consistencyDocument()),
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      TargetType: '/AWS::EC2::Instance',
    }),
  );
  const ec2 = new EC2Client(as);
  const instance = await runMotoInstance(ec2, as.region);
  await ec2.send(
    new CreateTagsCommand({ Resources: [instance], Tags: [{ Key: Tag.backup, Value: policy }] }),
  );
  return instance;
};
