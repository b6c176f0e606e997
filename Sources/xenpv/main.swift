import ArgumentParser
struct X: ParsableCommand { func run() {} }
X.main()
