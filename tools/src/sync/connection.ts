/** Glue connection shapes: the API's ConnectionInput/Connection and the managed spec sync compares. */
import type { Connection, ConnectionInput } from '@aws-sdk/client-glue';
import type { ConnectionSpec } from './model.js';

export function specOfConnection(c: Connection): ConnectionSpec {
  const spec: ConnectionSpec = {
    type: c.ConnectionType ?? '',
    properties: { ...(c.ConnectionProperties ?? {}) } as Record<string, string>,
  };
  if (c.Description) spec.description = c.Description;
  const p = c.PhysicalConnectionRequirements;
  if (p && (p.SubnetId || p.AvailabilityZone || (p.SecurityGroupIdList?.length ?? 0) > 0)) {
    spec.physical = { securityGroupIds: [...(p.SecurityGroupIdList ?? [])] };
    if (p.SubnetId) spec.physical.subnetId = p.SubnetId;
    if (p.AvailabilityZone) spec.physical.availabilityZone = p.AvailabilityZone;
  }
  return spec;
}

export function inputOfSpec(name: string, spec: ConnectionSpec): ConnectionInput {
  const input: ConnectionInput = {
    Name: name,
    ConnectionType: spec.type as ConnectionInput['ConnectionType'],
    ConnectionProperties: { ...spec.properties },
  };
  if (spec.description) input.Description = spec.description;
  if (spec.physical) {
    input.PhysicalConnectionRequirements = { SecurityGroupIdList: [...spec.physical.securityGroupIds] };
    if (spec.physical.subnetId) input.PhysicalConnectionRequirements.SubnetId = spec.physical.subnetId;
    if (spec.physical.availabilityZone)
      input.PhysicalConnectionRequirements.AvailabilityZone = spec.physical.availabilityZone;
  }
  return input;
}
