// The one ARN parser: every identifier an operation takes is classified here, relative to the caller's
// partition, region and account.
import { describe, expect, it } from "vitest";
import { Arns, clusterNameOf, familyOf, parseArn, regionOf, taskIdOf } from "../../src/runtime/arns.ts";

const arns = new Arns("us-east-1", "123456789012");
const HERE = "arn:aws:ecs:us-east-1:123456789012";

describe("Arns.resolve", () => {
  it.each([
    ["default", "cluster", { kind: "here", id: "default", arn: undefined, parent: undefined }],
    [`${HERE}:cluster/web`, "cluster", { kind: "here", id: "web", arn: `${HERE}:cluster/web`, parent: undefined }],
    [`${HERE}:task/web/0123`, "task", { kind: "here", id: "0123", arn: `${HERE}:task/web/0123`, parent: "web" }],
    [`${HERE}:task/0123`, "task", { kind: "here", id: "0123", arn: `${HERE}:task/0123`, parent: undefined }],
    [`${HERE}:task-definition/fam:3`, "task-definition", { kind: "here", id: "fam:3", arn: `${HERE}:task-definition/fam:3`, parent: undefined }],
    ["arn:aws-cn:ecs:us-east-1:123456789012:cluster/web", "cluster", { kind: "elsewhere", arn: "arn:aws-cn:ecs:us-east-1:123456789012:cluster/web" }],
    ["arn:aws:ecs:us-west-2:123456789012:cluster/web", "cluster", { kind: "elsewhere", arn: "arn:aws:ecs:us-west-2:123456789012:cluster/web" }],
    ["arn:aws:ecs:us-east-1:111111111111:task/web/0123", "task", { kind: "elsewhere", arn: "arn:aws:ecs:us-east-1:111111111111:task/web/0123" }],
  ] as const)("%s as a %s", (ref, type, expected) => {
    expect(arns.resolve(ref, type)).toEqual(expected);
  });

  it.each([
    ["arn:aws:lambda:us-east-1:123456789012:function:f", "cluster", "InvalidParameterException", "Invalid identifier: Unexpected service lambda"],
    [`${HERE}:service/web/api`, "cluster", "InvalidParameterException", "Invalid identifier: Unexpected resource type service"],
    [`${HERE}:cluster/web`, "task", "InvalidParameterException", "Invalid identifier: Unexpected resource type cluster"],
    [`${HERE}:cluster/${HERE}:cluster/web`, "cluster", "InvalidParameterException", "Invalid identifier: Unexpected number of separators"],
    [`${HERE}:task/a/b/c`, "task", "InvalidParameterException", "Invalid identifier: Unexpected number of separators"],
    ["a/b", "cluster", "InvalidParameterException", "Invalid identifier: Unexpected number of separators"],
    ["arn:aws:sts::162854405951", "cluster", "ClientException", "com.amazon.arn.ARNSyntaxException: Fifth colon"],
  ] as const)("%s as a %s is refused", (ref, type, errorType, message) => {
    let caught: { type?: string; message: string } | undefined;
    try {
      arns.resolve(ref, type);
    } catch (err) {
      caught = err as { type?: string; message: string };
    }
    expect(caught?.type).toBe(errorType);
    expect(caught?.message).toContain(message);
  });

  it("turns task ids and short ARNs into the long ARN of the request's cluster", () => {
    expect(arns.taskArnOf("web", "0123")).toEqual({ kind: "here", arn: `${HERE}:task/web/0123`, clusterName: "web", id: "0123" });
    expect(arns.taskArnOf("web", `${HERE}:task/0123`)).toEqual({ kind: "here", arn: `${HERE}:task/web/0123`, clusterName: "web", id: "0123" });
    expect(arns.taskArnOf("web", `${HERE}:task/other/0123`).arn).toBe(`${HERE}:task/other/0123`);
    expect(arns.inRegion("eu-west-1").taskArnOf("web", "0123").arn).toBe("arn:aws:ecs:eu-west-1:123456789012:task/web/0123");
  });
});

describe("slicing helpers", () => {
  it("parse and slice every ARN the same way", () => {
    expect(parseArn("arn:aws:secretsmanager:eu-west-1:1:secret:name-AbC:key::")).toMatchObject({ service: "secretsmanager", region: "eu-west-1", resource: "secret:name-AbC:key::" });
    expect(parseArn("arn:aws:ecs")).toBeUndefined();
    expect(taskIdOf(`${HERE}:task/web/0123`)).toBe("0123");
    expect(taskIdOf("0123")).toBe("0123");
    expect(clusterNameOf(`${HERE}:cluster/web`)).toBe("web");
    expect(clusterNameOf(undefined)).toBe("default");
    expect(regionOf(`arn:aws:ecs:ap-south-1:1:task/c/1`)).toBe("ap-south-1");
    expect(regionOf("not-an-arn")).toBeUndefined();
    expect(familyOf(`${HERE}:task-definition/my-fam:12`)).toBe("my-fam");
    expect(familyOf(undefined)).toBe("");
  });
});
