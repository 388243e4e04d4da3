// A CDK construct that creates the tables `singletable tables export --format cdk-json`
// describes. The export's values are the CDK enums' own values (AttributeType.STRING
// is "S", BillingMode.PAY_PER_REQUEST is "PAY_PER_REQUEST", ProjectionType.ALL is
// "ALL", StreamViewType.NEW_IMAGE is "NEW_IMAGE"), so each table's props go to
// dynamodb.Table as they are and each index's props to addGlobalSecondaryIndex /
// addLocalSecondaryIndex.
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";

/** One table of the export: its construct id, its TableProps and its indexes. */
export interface ExportedTable {
  readonly id: string;
  readonly props: dynamodb.TableProps;
  readonly globalSecondaryIndexes: dynamodb.GlobalSecondaryIndexProps[];
  readonly localSecondaryIndexes: dynamodb.LocalSecondaryIndexProps[];
}

/** The whole file: `{"tables": [...]}`. */
export interface TablesExport {
  readonly tables: ExportedTable[];
}

export class SingletableTables extends Construct {
  /** The tables created, by the id the export gives them (the model's variable name). */
  public readonly tables: Record<string, dynamodb.Table> = {};

  constructor(scope: Construct, id: string, exported: TablesExport) {
    super(scope, id);
    for (const spec of exported.tables) {
      const table = new dynamodb.Table(this, spec.id, spec.props);
      for (const index of spec.globalSecondaryIndexes) {
        table.addGlobalSecondaryIndex(index);
      }
      for (const index of spec.localSecondaryIndexes) {
        table.addLocalSecondaryIndex(index);
      }
      this.tables[spec.id] = table;
    }
  }
}
