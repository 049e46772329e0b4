import {
  DeleteCommand,
  type DeleteCommandInput,
  type DeleteCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  type PutCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { attempt, type Called } from './call.js';

const CONDITION_FAILED = ['ConditionalCheckFailedException'];

/** What a conditional write came to: the response, or `refused` when its condition did not hold. */
export type Conditional<T> = Promise<Called<T>>;

/**
 * Conditional writes to one state table (partition key `pk`). A refused condition is an answer, not an
 * error (of concurrent writers exactly one wins); anything else is an AwsCallError naming the table and key.
 */
export const conditionalWrites = (doc: DynamoDBDocumentClient, table: string) => ({
  put: (input: Omit<PutCommandInput, 'TableName'>): Conditional<PutCommandOutput> =>
    attempt(
      'PutItem',
      `${table} ${String(input.Item?.pk)}`,
      () => doc.send(new PutCommand({ TableName: table, ...input })),
      { refused: CONDITION_FAILED },
    ),
  update: (
    pk: string,
    input: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
  ): Conditional<UpdateCommandOutput> =>
    attempt(
      'UpdateItem',
      `${table} ${pk}`,
      () => doc.send(new UpdateCommand({ TableName: table, Key: { pk }, ...input })),
      { refused: CONDITION_FAILED },
    ),
  remove: (
    pk: string,
    input: Omit<DeleteCommandInput, 'TableName' | 'Key'>,
  ): Conditional<DeleteCommandOutput> =>
    attempt(
      'DeleteItem',
      `${table} ${pk}`,
      () => doc.send(new DeleteCommand({ TableName: table, Key: { pk }, ...input })),
      { refused: CONDITION_FAILED },
    ),
});
