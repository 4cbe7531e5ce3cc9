import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A minimal AWS-compatible endpoint on loopback for the plan's endpoint tests: it answers the reads the plan
 * makes in each service's wire protocol (RDS and EC2 query, CloudWatch JSON 1.0, Cost Explorer JSON 1.1, S3 REST
 * XML) and records every request it receives, with the service and region of its SigV4 credential scope.
 */

export interface SeenRequest {
  service: string;
  region: string;
  /** The access key id that signed the request. */
  accessKeyId: string;
  operation: string;
  protocol: "query" | "json" | "rest-xml";
  method: string;
  path: string;
  contentType: string;
  body: string;
}

export interface FakeEndpoint {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

const xml = (op: string, ns: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><${op}Response xmlns="${ns}"><${op}Result>${inner}</${op}Result><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${op}Response>`;
const RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/";

function dbInstance(id: string, region: string, tags: Record<string, string>, replicaOf?: string): string {
  const tagXml = Object.entries(tags)
    .map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`)
    .join("");
  return `<DBInstance><DBInstanceIdentifier>${id}</DBInstanceIdentifier><DBInstanceArn>arn:aws:rds:${region}:123456789012:db:${id}</DBInstanceArn><DBInstanceStatus>available</DBInstanceStatus><TagList>${tagXml}</TagList>${replicaOf ? `<ReadReplicaSourceDBInstanceIdentifier>${replicaOf}</ReadReplicaSourceDBInstanceIdentifier>` : ""}</DBInstance>`;
}

function answer(
  service: string,
  region: string,
  operation: string,
  params: URLSearchParams,
  json: Record<string, unknown>,
): { status: number; type: string; body: string } {
  if (service === "rds") {
    if (operation === "DescribeDBInstances") {
      const all =
        region === "eu-west-1"
          ? [["app-db", dbInstance("app-db", region, { "ops-autopilot:backup": "db" })]]
          : [["app-db-dr", dbInstance("app-db-dr", region, {}, "arn:aws:rds:eu-west-1:123456789012:db:app-db")]];
      const want = params.get("DBInstanceIdentifier");
      const chosen = all
        .filter(([id]) => !want || id === want)
        .map(([, x]) => x)
        .join("");
      return { status: 200, type: "text/xml", body: xml(operation, RDS_NS, `<DBInstances>${chosen}</DBInstances>`) };
    }
    if (operation === "DescribeDBClusters") return { status: 200, type: "text/xml", body: xml(operation, RDS_NS, "<DBClusters></DBClusters>") };
    if (operation === "DescribeDBSnapshots") return { status: 200, type: "text/xml", body: xml(operation, RDS_NS, "<DBSnapshots></DBSnapshots>") };
    if (operation === "DescribeDBClusterSnapshots")
      return { status: 200, type: "text/xml", body: xml(operation, RDS_NS, "<DBClusterSnapshots></DBClusterSnapshots>") };
  }
  if (service === "ec2") {
    const list: Record<string, string> = { DescribeVolumes: "volumeSet", DescribeImages: "imagesSet", DescribeSnapshots: "snapshotSet" };
    if (list[operation]) {
      return {
        status: 200,
        type: "text/xml",
        body: `<?xml version="1.0" encoding="UTF-8"?><${operation}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId><${list[operation]}/></${operation}Response>`,
      };
    }
  }
  if (service === "monitoring" && operation === "GetMetricData") {
    const queries = (json.MetricDataQueries as { Id: string }[] | undefined) ?? [];
    const end = Number(json.EndTime);
    return {
      status: 200,
      type: "application/x-amz-json-1.0",
      body: JSON.stringify({
        MetricDataResults: queries.map((q) => ({ Id: q.Id, Label: "ReplicaLag", Timestamps: [end - 60], Values: [2], StatusCode: "Complete" })),
        Messages: [],
      }),
    };
  }
  if (service === "ce" && operation === "GetCostAndUsage") {
    return { status: 200, type: "application/x-amz-json-1.1", body: JSON.stringify({ ResultsByTime: [], DimensionValueAttributes: [] }) };
  }
  if (service === "ce" && operation === "GetCostForecast") {
    return { status: 200, type: "application/x-amz-json-1.1", body: JSON.stringify({ Total: { Amount: "100", Unit: "USD" }, ForecastResultsByTime: [] }) };
  }
  if (service === "s3" && operation === "GetObject") {
    return {
      status: 404,
      type: "application/xml",
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`,
    };
  }
  return {
    status: 400,
    type: "text/xml",
    body: `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${service}:${operation} is not served here</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
  };
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startFakeEndpoint(): Promise<FakeEndpoint> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    // SigV4: Credential=<key>/<date>/<region>/<service>/aws4_request
    const scope = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ""));
    const accessKeyId = scope?.[1] ?? "?";
    const region = scope?.[2] ?? "?";
    const service = scope?.[3] ?? "?";
    const contentType = String(req.headers["content-type"] ?? "");
    const target = String(req.headers["x-amz-target"] ?? "");
    let operation: string;
    let protocol: SeenRequest["protocol"];
    let params = new URLSearchParams();
    let json: Record<string, unknown> = {};
    if (contentType.startsWith("application/x-www-form-urlencoded")) {
      params = new URLSearchParams(body);
      operation = params.get("Action") ?? "?";
      protocol = "query";
    } else if (target) {
      operation = target.split(".").pop()!;
      json = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      protocol = "json";
    } else {
      operation = req.method === "GET" ? "GetObject" : req.method === "PUT" ? "PutObject" : `${req.method}`;
      protocol = "rest-xml";
    }
    seen.push({ service, region, accessKeyId, operation, protocol, method: req.method ?? "", path: req.url ?? "", contentType, body });
    const a = answer(service, region, operation, params, json);
    res.writeHead(a.status, { "content-type": a.type, "x-amzn-requestid": "req-1" });
    res.end(a.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
