// @openfl-connect/core/protocol: the generated protobuf code of OpenFL's aggregator protocol
// (proto/, buf generate): the Aggregator service and its messages with their schemas.
export * from "./gen/openfl/protocols/aggregator_pb.js";
export * from "./gen/openfl/protocols/base_pb.js";
