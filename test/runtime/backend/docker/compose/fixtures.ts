// A task definition exercising every field the compose mapping handles, in wire JSON as
// DescribeTaskDefinition returns it (so it also feeds the JSON conversion tests).

export const SECRET_VALUE_MARKER = "s3cr3t-value-that-must-never-appear";

export function richTaskDefinitionJson(networkMode: "bridge" | "awsvpc" | "host" | "none"): Record<string, unknown> {
  const bridgeOnly = networkMode === "bridge";
  const notAwsvpc = networkMode !== "awsvpc";
  return {
    taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/rich-${networkMode}:3`,
    family: `rich-${networkMode}`,
    revision: 3,
    networkMode,
    registeredAt: 1700000000.123,
    pidMode: "host",
    ipcMode: "none",
    volumes: [
      { name: "hostdir", host: { sourcePath: "/tmp/ecs-local-compose-test" } },
      { name: "scratch", host: {} },
      { name: "taskvol", dockerVolumeConfiguration: { scope: "task", driver: "local", driverOpts: { type: "tmpfs", device: "tmpfs" }, labels: { a: "b" } } },
      { name: "sharedvol", dockerVolumeConfiguration: { scope: "shared", autoprovision: true, driver: "local" } },
      { name: "existing", dockerVolumeConfiguration: { scope: "shared", autoprovision: false } },
      { name: "efs", efsVolumeConfiguration: { fileSystemId: "fs-12345678", rootDirectory: "/" } },
    ],
    containerDefinitions: [
      {
        name: "init-db",
        image: "local-ecs-api-test/busybox:latest",
        essential: false,
        command: ["sh", "-c", "echo $HOME > /data/ready"],
        mountPoints: [{ sourceVolume: "taskvol", containerPath: "/data" }],
      },
      {
        name: "web-app",
        image: "local-ecs-api-test/busybox:latest",
        essential: true,
        cpu: 256,
        memory: 128,
        memoryReservation: 64,
        entryPoint: ["sh", "-c"],
        command: ["httpd -f -p 8080"],
        workingDirectory: "/tmp",
        user: "1000:1000",
        ...(notAwsvpc ? { hostname: "web", dnsServers: ["10.0.0.2"], dnsSearchDomains: ["example.internal"], extraHosts: [{ hostname: "db.local", ipAddress: "10.0.0.5" }] } : {}),
        ...(bridgeOnly ? { links: ["sidecar:side"] } : {}),
        ...(networkMode === "none"
          ? {}
          : {
              portMappings: [
                { containerPort: 8080, hostPort: networkMode === "bridge" ? 0 : 8080, protocol: "tcp" },
                { containerPort: 5353, ...(networkMode === "bridge" ? {} : { hostPort: 5353 }), protocol: "udp" },
                ...(networkMode === "bridge" ? [{ containerPortRange: "9000-9002", protocol: "tcp" }] : []),
              ],
            }),
        environment: [
          { name: "PLAIN", value: "hello" },
          { name: "WITH_DOLLAR", value: "cost $5 and ${NOT_A_VAR}" },
        ],
        secrets: [
          { name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::" },
          { name: "API_TOKEN", valueFrom: "/app/api-token" },
        ],
        mountPoints: [
          { sourceVolume: "hostdir", containerPath: "/host", readOnly: true },
          { sourceVolume: "scratch", containerPath: "/scratch" },
          { sourceVolume: "sharedvol", containerPath: "/shared" },
          { sourceVolume: "existing", containerPath: "/existing", readOnly: true },
          { sourceVolume: "efs", containerPath: "/efs" },
        ],
        volumesFrom: [{ sourceContainer: "init-db", readOnly: true }],
        dependsOn: [
          { containerName: "init-db", condition: "SUCCESS" },
          { containerName: "sidecar", condition: "HEALTHY" },
        ],
        healthCheck: { command: ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"], interval: 10, startPeriod: 5 },
        dockerLabels: { team: "payments", "com.amazonaws.ecs.cluster": "spoofed" },
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/web", "awslogs-region": "us-east-1" } },
        ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 4096 }],
        linuxParameters: {
          capabilities: { add: ["NET_ADMIN"], drop: ["MKNOD"] },
          devices: [{ hostPath: "/dev/null", containerPath: "/dev/mynull", permissions: ["read", "write"] }],
          initProcessEnabled: true,
          sharedMemorySize: 64,
          tmpfs: [{ containerPath: "/run/cache", size: 32, mountOptions: ["noexec", "mode=1777"] }],
          maxSwap: 0,
          swappiness: 10,
        },
        systemControls: networkMode === "host" ? [] : [{ namespace: "net.core.somaxconn", value: "1024" }],
        dockerSecurityOptions: ["no-new-privileges"],
        interactive: true,
        pseudoTerminal: true,
        privileged: false,
        readonlyRootFilesystem: true,
        stopTimeout: 45,
      },
      {
        name: "sidecar",
        image: "local-ecs-api-test/busybox:latest",
        essential: false,
        command: ["sleep", "3600"],
        healthCheck: { command: ["true"] },
        logConfiguration: { logDriver: "json-file", options: { "max-size": "10m" } },
        dependsOn: [{ containerName: "init-db", condition: "COMPLETE" }],
      },
    ],
  };
}
