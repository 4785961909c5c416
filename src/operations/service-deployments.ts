import { ConflictException, InvalidParameterException, ServiceDeploymentNotFoundException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type {
  DescribeServiceDeploymentsRequest,
  DescribeServiceDeploymentsResponse,
  DescribeServiceRevisionsRequest,
  DescribeServiceRevisionsResponse,
  Failure,
  ListServiceDeploymentsRequest,
  ListServiceDeploymentsResponse,
  ServiceDeployment,
  ServiceDeploymentBrief,
  ServiceRevision,
  StopServiceDeploymentRequest,
  StopServiceDeploymentResponse,
} from "../../generated/shapes.ts";
import type { ServiceRecord } from "../runtime/store/service-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isNonNegativeInteger } from "./pagination.ts";
import { findService, type ServiceOperationsOptions } from "./service-context.ts";
import { renderServiceDeployment } from "./service-views.ts";

const MAX_DESCRIBE = 20;
const STOPPABLE = new Set(["PENDING", "IN_PROGRESS"]);
const ALREADY_STOPPING = new Set(["STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"]);

/**
 * The newer deployment APIs over the history CreateService/UpdateService and the scheduler record:
 * DescribeServiceDeployments, ListServiceDeployments, DescribeServiceRevisions, StopServiceDeployment.
 */
export function serviceDeploymentOperations(deps: OperationDeps, options: ServiceOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { serviceDeployments, serviceRevisions, services } = options;
  const serviceOf = (sd: ServiceDeployment): ServiceRecord | undefined => services.get(sd.serviceArn ?? "");
  const tasksOf = (record: ServiceRecord | undefined) =>
    record === undefined ? [] : options.tasks.list({ clusterArn: record.service.clusterArn ?? "", serviceName: record.service.serviceName ?? "" });

  return {
    async describeServiceDeployments(input: DescribeServiceDeploymentsRequest): Promise<DescribeServiceDeploymentsResponse> {
      if (input.serviceDeploymentArns.length === 0) throw new InvalidParameterException("serviceDeploymentArns cannot be empty.");
      if (input.serviceDeploymentArns.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`You can specify up to ${MAX_DESCRIBE} service deployments in a single request.`);
      }
      const found: ServiceDeployment[] = [];
      const failures: Failure[] = [];
      for (const arn of new Set(input.serviceDeploymentArns)) {
        const sd = serviceDeployments.get(arn);
        if (sd === undefined) failures.push({ arn, reason: "MISSING" });
        else {
          const record = serviceOf(sd);
          found.push(renderServiceDeployment(sd, record, tasksOf(record)));
        }
      }
      return { serviceDeployments: found, failures };
    },

    async listServiceDeployments(input: ListServiceDeploymentsRequest, ctx: OperationContext): Promise<ListServiceDeploymentsResponse> {
      const cluster = options.clusters.inRegion(ctx.region).require(input.cluster);
      const record = findService(options, deps.arns.inRegion(ctx.region), cluster, input.service);
      const limit = input.maxResults ?? 20;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      const afterSeq = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "service-deployment", isNonNegativeInteger);
      const page = serviceDeployments.list({
        serviceArn: record.service.serviceArn ?? "",
        status: input.status,
        createdAfter: input.createdAt?.after,
        createdBefore: input.createdAt?.before,
        afterSeq,
        limit: limit + 1,
      });
      const items = page.slice(0, limit);
      const out: ListServiceDeploymentsResponse = { serviceDeployments: items.map(({ deployment }) => brief(deployment)) };
      const last = items.at(-1);
      if (page.length > limit && last !== undefined) out.nextToken = encodeToken("service-deployment", last.seq);
      return out;
    },

    async describeServiceRevisions(input: DescribeServiceRevisionsRequest): Promise<DescribeServiceRevisionsResponse> {
      if (input.serviceRevisionArns.length === 0) throw new InvalidParameterException("serviceRevisionArns cannot be empty.");
      if (input.serviceRevisionArns.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`You can specify up to ${MAX_DESCRIBE} service revisions in a single request.`);
      }
      const found: ServiceRevision[] = [];
      const failures: Failure[] = [];
      for (const arn of new Set(input.serviceRevisionArns)) {
        const revision = serviceRevisions.get(arn);
        if (revision === undefined) failures.push({ arn, reason: "MISSING" });
        else found.push(revision);
      }
      return { serviceRevisions: found, failures };
    },

    async stopServiceDeployment(input: StopServiceDeploymentRequest): Promise<StopServiceDeploymentResponse> {
      const stopType = input.stopType ?? "ROLLBACK";
      if (stopType !== "ROLLBACK") throw new InvalidParameterException(`The stop type ${stopType} is not supported. The valid value is ROLLBACK.`);
      const sd = serviceDeployments.get(input.serviceDeploymentArn);
      if (sd === undefined) throw new ServiceDeploymentNotFoundException("Service deployment not found.");
      const arn = sd.serviceDeploymentArn ?? "";
      const status = sd.status ?? "PENDING";
      if (ALREADY_STOPPING.has(status)) return { serviceDeploymentArn: arn };
      const record = serviceOf(sd);
      if (!STOPPABLE.has(status) || record === undefined || record.service.status !== "ACTIVE") {
        throw new ConflictException(`The service deployment is ${status} and can no longer be stopped.`, { resourceIds: [arn] });
      }
      const at = deps.clock.now();
      serviceDeployments.update(arn, (doc) => {
        doc.status = "ROLLBACK_REQUESTED";
        doc.updatedAt = at;
      });
      for (const link of Object.values(record.book.links)) {
        if (link.serviceDeploymentArn === arn) link.sdStatus = "ROLLBACK_REQUESTED";
      }
      record.book.rollbackRequested = arn;
      services.save(record);
      options.scheduler.poke(record.service.serviceArn ?? "");
      deps.logger.info("service.deployment-stop", { serviceDeploymentArn: arn, stopType });
      return { serviceDeploymentArn: arn };
    },
  };
}

function brief(sd: ServiceDeployment): ServiceDeploymentBrief {
  const out: ServiceDeploymentBrief = {
    serviceDeploymentArn: sd.serviceDeploymentArn,
    serviceArn: sd.serviceArn,
    clusterArn: sd.clusterArn,
    createdAt: sd.createdAt,
    targetServiceRevisionArn: sd.targetServiceRevision?.arn,
    status: sd.status,
  };
  if (sd.startedAt !== undefined) out.startedAt = sd.startedAt;
  if (sd.finishedAt !== undefined) out.finishedAt = sd.finishedAt;
  if (sd.statusReason !== undefined) out.statusReason = sd.statusReason;
  return out;
}
