/* A "patch.so" that is really a position-independent executable: glibc's dlopen refuses it. */
int target(int x) {
    return x * 3 + 2;
}

int main(void) {
    return target(1) == 5 ? 0 : 1;
}
