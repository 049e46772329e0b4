/** One IAM statement for a function's role. */
export interface Permission {
  /** Statement id: names the permission in the template, in reviews and in tests. */
  sid: string;
  actions: string[];
  resources: string[];
  conditions?: Record<string, Record<string, unknown>>;
  /** Required when an action or resource has a wildcard: becomes the cdk-nag AwsSolutions-IAM5 acknowledgement. */
  wildcardReason?: string;
}

/**
 * What a resource construct grants to (a steward function): it takes statements. Declared here, below both,
 * so a resource's `grant…` methods need not import the function construct that imports the resource.
 */
export interface Grantee {
  allow(p: Permission): void;
}
