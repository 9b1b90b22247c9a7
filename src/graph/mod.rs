//! Graph: the dependency DAG over objects, and the plan.
