import {
  type DBCluster,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { attempt } from './call.js';

/** One DB instance by id, or undefined when it does not exist. */
export const findDbInstance = async (
  rds: RDSClient,
  region: string,
  id: string,
): Promise<DBInstance | undefined> => {
  const r = await attempt(
    'DescribeDBInstances',
    `DB instance ${id} in ${region}`,
    () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id })),
    { gone: ['DBInstanceNotFoundFault'] },
  );
  return r.ok ? r.value.DBInstances?.[0] : undefined;
};

/** One DB cluster by id, or undefined when it does not exist. */
export const findDbCluster = async (
  rds: RDSClient,
  region: string,
  id: string,
): Promise<DBCluster | undefined> => {
  const r = await attempt(
    'DescribeDBClusters',
    `DB cluster ${id} in ${region}`,
    () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id })),
    { gone: ['DBClusterNotFoundFault'] },
  );
  return r.ok ? r.value.DBClusters?.[0] : undefined;
};
