import { describe, expect, it } from "vitest";
import { QueryError, evaluateClusterQuery, parseClusterQuery, type QueryTarget } from "../../../src/runtime/instances/cluster-query.ts";

const small: QueryTarget = {
  attributes: new Map<string, string | undefined>([
    ["ecs.instance-type", "t2.small"],
    ["ecs.availability-zone", "us-east-1a"],
    ["ecs.os-type", "linux"],
    ["color", "blue"],
    ["com.amazonaws.ecs.capability.privileged-container", undefined],
    ["rank", "10"],
  ]),
  ec2InstanceId: "i-abcd1234",
  agentConnected: true,
  agentVersion: "1.14.4",
  registeredAt: new Date("2018-02-10T08:00:00Z"),
  runningTasksCount: 1,
  taskGroups: new Set(["service:production"]),
};

const big: QueryTarget = {
  ...small,
  attributes: new Map<string, string | undefined>([
    ["ecs.instance-type", "g2.2xlarge"],
    ["ecs.availability-zone", "us-east-1d"],
    ["rank", "9"],
  ]),
  ec2InstanceId: "i-wxyx7890",
  agentConnected: false,
  agentVersion: "1.105.1",
  registeredAt: new Date("2018-06-18T22:28:29Z"),
  runningTasksCount: 0,
  taskGroups: new Set(["database"]),
};

// The guide's examples ("Cluster query language", Example expressions) and a few more per operator.
const cases: Array<[expression: string, small: boolean, big: boolean]> = [
  ["attribute:ecs.instance-type == t2.small", true, false],
  ["attribute:ecs.instance-type equals t2.small", true, false],
  ["attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true, false],
  ["attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", false, false],
  ["attribute:ecs.instance-type =~ g2.* or attribute:ecs.availability-zone != us-east-1d", true, true],
  ["task:group == service:production", true, false],
  ["not(task:group == database)", true, false],
  ["!(task:group == database)", true, false],
  ["runningTasksCount == 1", true, false],
  ["agentVersion < 1.14.5", true, false],
  ["agentVersion >= 1.100.0", false, true],
  ["registeredAt < 2018-02-13", true, false],
  ["registeredAt >= 2018-06-18T22:28:28+00:00", false, true],
  ["registeredAt > 2018-06-18T22:28:28", false, true],
  ["ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true, true],
  ["ec2InstanceId !in ['i-abcd1234']", false, true],
  ["ec2InstanceId not_in ['i-abcd1234']", false, true],
  ["agentConnected == true", true, false],
  ["agentConnected != true", false, true],
  ["attribute:color exists", true, false],
  ["attribute:color !exists", false, true],
  ["attribute:color not_exists", false, true],
  ["attribute:com.amazonaws.ecs.capability.privileged-container exists", true, false],
  ["attribute:color != blue", false, true],
  ["attribute:color !~ bl.*", false, true],
  ["attribute:rank > 9", true, false],
  ["attribute:rank greater_than_equal 9", true, true],
  ["(attribute:color == blue or runningTasksCount == 0) and agentConnected == true", true, false],
  ["attribute:ecs.os-type == linux && (attribute:color == blue || attribute:color == red)", true, false],
  ["attribute:ecs.instance-type matches 't2\\.(small|micro)'", true, false],
];

describe("cluster query language", () => {
  it.each(cases)("%s", (expression, onSmall, onBig) => {
    const node = parseClusterQuery(expression);
    expect([evaluateClusterQuery(node, small), evaluateClusterQuery(node, big)]).toEqual([onSmall, onBig]);
  });

  it.each([
    ["", "empty"],
    ["attribute:color", "unknown operator"],
    ["colour == blue", "unknown subject"],
    ["attribute:color == blue and", "expected a subject"],
    ["(attribute:color == blue", 'missing ")"'],
    ["runningTasksCount exists", "not valid for runningTasksCount"],
    ["agentConnected > true", "not valid for agentConnected"],
    ["registeredAt < yesterday", "not a date"],
    ["attribute:color =~ (", "not a valid pattern"],
    ["ec2InstanceId in i-1", "argument list"],
    ["attribute:color == blue junk", "unexpected"],
  ])("rejects %j (%s)", (expression, message) => {
    expect(() => parseClusterQuery(expression)).toThrow(QueryError);
    expect(() => parseClusterQuery(expression)).toThrow(message);
  });

  it("refuses expressions over 2000 characters", () => {
    expect(() => parseClusterQuery(`attribute:a == ${"x".repeat(2000)}`)).toThrow("longer than 2000");
  });
});
