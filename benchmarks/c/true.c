// A static `true` for the fork+exec+wait workload (no dynamic loader in the measured path).
int main(void) { return 0; }
