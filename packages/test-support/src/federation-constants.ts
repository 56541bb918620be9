// The identity of every test federation (the values of OpenFL's default workspace): one source
// for the Node, web, collaborator, interop and evidence suites.
export const FEDERATION_UUID = "plan.yaml_4ebcd576";
export const AGGREGATOR_UUID = `aggregator_${FEDERATION_UUID}`;
