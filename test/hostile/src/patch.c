/* The replacement for every hostile guest: same signature, a different result. */
int target(int x) {
    return x * 3 + 2;
}
