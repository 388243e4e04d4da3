// The ElectroDB side of "Coming from ElectroDB" (docs/from-electrodb.md).
//
// Not run by the test suite (it needs Node.js and npm packages). It was run with
// electrodb 3.9.3 and @aws-sdk/client-dynamodb 3 against `singletable serve`:
//
//   npm install electrodb@3 @aws-sdk/client-dynamodb@3
//   singletable serve --port 8000 &
//   node docs/examples/from_electrodb.mjs http://127.0.0.1:8000 > items.json
//
// It prints its answers on stderr and the table's items, as ElectroDB wrote them,
// on stdout: docs/examples/from_electrodb_items.json is that output, which
// docs/examples/from_electrodb.py reads with singletable entities.

// --8<-- [start:electrodb-models]
import { DynamoDBClient, CreateTableCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { Entity, Service } from "electrodb";

const client = new DynamoDBClient({
  endpoint: process.argv[2], region: "us-east-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const table = "shop";

const Customer = new Entity({
  model: { entity: "customer", version: "1", service: "shop" },
  attributes: {
    customerId: { type: "string", required: true },
    name: { type: "string", required: true },
  },
  indexes: {
    byCustomer: {
      collection: "customerOrders",
      pk: { field: "pk", composite: ["customerId"] },
      sk: { field: "sk", composite: [] },
    },
  },
}, { table, client });

const Order = new Entity({
  model: { entity: "order", version: "1", service: "shop" },
  attributes: {
    customerId: { type: "string", required: true },
    orderId: { type: "string", required: true },
    placedAt: { type: "string", required: true },   // ISO-8601 text
    total: { type: "number", required: true },
    status: { type: ["pending", "shipped"], default: "pending" },
  },
  indexes: {
    byCustomer: {
      collection: "customerOrders",
      pk: { field: "pk", composite: ["customerId"] },
      sk: { field: "sk", composite: ["placedAt", "orderId"] },
    },
    byStatus: {
      index: "gsi1",
      pk: { field: "gsi1pk", composite: ["status"] },
      sk: { field: "gsi1sk", composite: ["placedAt", "orderId"] },
    },
  },
}, { table, client });

const shop = new Service({ customer: Customer, order: Order });
// --8<-- [end:electrodb-models]

await client.send(new CreateTableCommand({
  TableName: table,
  BillingMode: "PAY_PER_REQUEST",
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
  AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk"].map(
    (name) => ({ AttributeName: name, AttributeType: "S" })),
  GlobalSecondaryIndexes: [{
    IndexName: "gsi1",
    KeySchema: [{ AttributeName: "gsi1pk", KeyType: "HASH" }, { AttributeName: "gsi1sk", KeyType: "RANGE" }],
    Projection: { ProjectionType: "ALL" },
  }],
}));

const seen = {};
const day = (n) => new Date(Date.UTC(2026, 4, 1 + n, 9)).toISOString();  // 2026-05-01T09:00:00.000Z

// --8<-- [start:electrodb-write]
await Customer.create({ customerId: "c1", name: "Ada" }).go();
await Customer.create({ customerId: "c2", name: "Grace" }).go();
try {
  await Customer.create({ customerId: "c1", name: "Someone else" }).go();  // exists: refused
} catch (error) {
  seen.createAgain = error.cause?.name;
}
const { data: ada } = await Customer.get({ customerId: "c1" }).go();
// --8<-- [end:electrodb-write]
seen.ada = ada.name;

for (const [customerId, orderId, n, total] of [
  ["c1", "o1", 0, 30], ["c1", "o2", 2, 12.5], ["c2", "o3", 3, 99.9], ["c1", "o4", 6, 45],
]) {
  await Order.create({ customerId, orderId, placedAt: day(n), total }).go();
}

// --8<-- [start:electrodb-query]
const { data: firstWeek } = await Order.query
  .byCustomer({ customerId: "c1" })
  .between({ placedAt: day(0) }, { placedAt: day(6) })
  .go();
// --8<-- [end:electrodb-query]
seen.firstWeek = firstWeek.map((o) => o.orderId);

// --8<-- [start:electrodb-collection]
const { data: page } = await shop.collections.customerOrders({ customerId: "c1" }).go();
// page.customer: [Ada], page.order: her 4 orders
// --8<-- [end:electrodb-collection]
seen.collection = [page.customer.map((c) => c.name), page.order.map((o) => o.orderId)];

// --8<-- [start:electrodb-pages]
const pages = [];
let cursor = null;
do {
  const result = await Order.query.byCustomer({ customerId: "c1" }).go({ cursor, count: 2 });
  pages.push(result.data.map((o) => o.orderId));
  cursor = result.cursor;  // null at the end
} while (cursor);
// --8<-- [end:electrodb-pages]
seen.pages = pages;

// --8<-- [start:electrodb-update]
const ship = (order) => Order.patch(order)          // patch: the item must exist
  .set({ status: "shipped" })
  .where(({ status }, { eq }) => eq(status, "pending"))
  .go();
await ship({ customerId: "c1", placedAt: day(0), orderId: "o1" });
try {
  await ship({ customerId: "c1", placedAt: day(0), orderId: "o1" });
} catch (error) {
  seen.shipAgain = error.cause?.name;
}
const { data: shipped } = await Order.query.byStatus({ status: "shipped" }).go();
// --8<-- [end:electrodb-update]
seen.shipped = shipped.map((o) => o.orderId);

// --8<-- [start:electrodb-transaction]
const placed = await shop.transaction.write(({ order }) => [
  order.create({ customerId: "c1", orderId: "o5", placedAt: day(9), total: 8.2 }).commit(),
  order.create({ customerId: "c1", orderId: "o1", placedAt: day(0), total: 1 }).commit(),
]).go();
// placed.canceled is true; placed.data holds one { rejected, code } per action
// --8<-- [end:electrodb-transaction]
seen.transaction = [placed.canceled, placed.data.map((action) => action.code)];

process.stderr.write(JSON.stringify(seen, null, 2) + "\n");
const { Items } = await client.send(new ScanCommand({ TableName: table }));
Items.sort((a, b) => (a.pk.S + " " + a.sk.S).localeCompare(b.pk.S + " " + b.sk.S));
process.stdout.write(JSON.stringify(Items, null, 1) + "\n");
