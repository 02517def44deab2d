module cpgo.test/burn

go 1.19
