#!/usr/bin/env node
// The CDK app: one stack with the tables of examples/ecommerce.py.
//
//   singletable tables export ../ecommerce.py --format cdk-json -o tables.json
//   npm install && npx cdk synth
import * as fs from "fs";
import * as path from "path";
import * as cdk from "aws-cdk-lib";
import { SingletableTables, TablesExport } from "../lib/singletable-tables";

const exported = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "tables.json"), "utf-8"),
) as TablesExport;

const app = new cdk.App();
const stack = new cdk.Stack(app, "ShopData");
const data = new SingletableTables(stack, "Tables", exported);
new cdk.CfnOutput(stack, "ShopTableName", { value: data.tables["Shop"].tableName });
