"""A chaotic business day, simulated: drive OrderGraph with simulated channels, ERP, WMS and carriers
under injected faults, and judge its view of every order against the truth the simulators keep."""
