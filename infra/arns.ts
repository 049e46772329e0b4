import { ArnFormat, type Stack } from 'aws-cdk-lib';

/** `arn:<partition>:<service>:<region>:<account>:<type>:<name>` (RDS and ElastiCache use colon ARNs). */
export const awsArn = (stack: Stack, service: string, region: string, type: string, name: string): string =>
  stack.formatArn({
    service,
    region,
    resource: type,
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * An EC2 ARN (`instance/i-...`, `volume/vol-...`); snapshots have no account in their ARN
 * (`arn:aws:ec2:<region>::snapshot/<id>`, Service Authorization Reference, Amazon EC2 resource types).
 */
export const ec2Arn = (stack: Stack, region: string, type: string, name: string): string =>
  stack.formatArn({
    service: 'ec2',
    region,
    ...(type === 'snapshot' ? { account: '' } : {}),
    resource: type,
    resourceName: name,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });

/** A config name (`daily`, `pre-change`) as a PascalCase construct id part (`Daily`, `PreChange`). */
export const constructId = (name: string): string =>
  name
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
